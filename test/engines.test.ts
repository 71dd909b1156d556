// The Node range package.json promises must be one every locked package accepts (npm ci printed
// EBADENGINE when commander@15 wanted ≥ 22.12 and vite ≥ 20.19 while we said ≥ 20.9).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v.replace(/\.x$/, '').split('.').map((n) => Number.parseInt(n, 10) || 0);
  return [a, b, c];
};
const cmp = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** semver's node-range forms the lockfile holds: `>=X[.Y[.Z]]`, `^X[.Y[.Z]]`, joined by `||`. */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alt) => {
    const m = /^\s*(>=|\^)\s*([\d.x]+)\s*$/.exec(alt);
    if (!m) throw new Error(`unhandled engines range ${JSON.stringify(range)}`);
    const min = parse(m[2]!);
    return cmp(v, min) >= 0 && (m[1] === '>=' || v[0] === min[0]);
  });
}

describe('engines', () => {
  it("the declared minimum Node satisfies every locked package's engines", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const min = parse(/^>=(\S+)$/.exec(pkg.engines.node)![1]!);
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    const refusing = Object.entries(lock.packages).filter(([, p]) => p.engines?.node && !satisfies(min, p.engines.node)).map(([k, p]) => `${k} (${p.engines!.node})`);
    expect(refusing).toEqual([]);
    expect(satisfies(parse('20.9.0'), '^20.19.0 || >=22.12.0')).toBe(false);
  });
});
