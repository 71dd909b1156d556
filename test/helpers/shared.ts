// Where ../shared is, and a skip reason when it is absent (a fresh clone has no ../shared).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.PIE_SHARED ?? path.resolve(REPO_ROOT, '../shared');
export const hasShared = (rel: string): boolean => fs.existsSync(path.join(SHARED, rel));
export const sharedPath = (rel: string): string => path.join(SHARED, rel);

/** Logs why a suite is skipped, so the skip is visible in the test output. */
export function skipReason(rel: string): string | undefined {
  if (hasShared(rel)) return undefined;
  const why = `skipped: ${path.join(SHARED, rel)} not found (needs ../shared beside the repo)`;
  console.warn(why);
  return why;
}

export function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
