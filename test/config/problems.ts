// The issues a config text raises: a test helper shared by the config tests.
import { expect } from 'vitest';
import { ConfigError, parseConfig, type ConfigIssue } from '../../src/config/load.js';

/** The issues a config text raises (fails the test if it raises none). */
export function problems(text: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    parseConfig(text, { env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}
