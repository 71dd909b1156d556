// Scratch folders left by runs that could not clean up (SIGKILL, a second Ctrl-C) go at the next start.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanStaleDataDirs, makeDataDir } from '../../src/output/data-dir.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-datadir-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('scratch folders', () => {
  it("removes the folders of ended runs, keeps a running one's and a fresh unmarked one", () => {
    const dead = spawnSync('true').pid!; // exited: its pid names no process now
    const mk = (name: string, pid?: number): string => {
      const d = path.join(root, name);
      fs.mkdirSync(path.join(d, 'cam', 'enhanced'), { recursive: true });
      fs.writeFileSync(path.join(d, 'cam', 'enhanced', 'seg0.ts'), 'x');
      if (pid !== undefined) fs.writeFileSync(path.join(d, 'pid'), `${pid}\n`);
      return d;
    };
    mk('pie-stream-killed', dead);
    mk('pie-stream-running', process.pid);
    mk('pie-stream-unmarked-new');
    const old = mk('pie-stream-unmarked-old');
    fs.utimesSync(old, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    mk('other-folder', dead);
    expect(cleanStaleDataDirs(root).sort()).toEqual(['pie-stream-killed', 'pie-stream-unmarked-old']);
    expect(fs.readdirSync(root).sort()).toEqual(['other-folder', 'pie-stream-running', 'pie-stream-unmarked-new']);
  });

  it('makes a fresh folder marked with this pid', () => {
    const lines: string[] = [];
    fs.mkdirSync(path.join(root, 'pie-stream-gone'));
    fs.writeFileSync(path.join(root, 'pie-stream-gone', 'pid'), 'not a pid');
    const d = makeDataDir(root, (l) => lines.push(l));
    expect(fs.readFileSync(path.join(d, 'pid'), 'utf8')).toBe(`${process.pid}\n`);
    expect(lines).toEqual(['removed 1 scratch folder(s) left by earlier runs: pie-stream-gone']);
    expect(cleanStaleDataDirs(root)).toEqual([]);
  });
});
