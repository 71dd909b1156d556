// The run's scratch folder (HLS segments): /tmp/pie-stream-XXXXXX holding a `pid` file. A run that
// could not clean up (SIGKILL, a second Ctrl-C, a crash) leaves it behind; the next start removes
// every such folder whose process is gone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'pie-stream-';
/** A folder without a pid file (another version's, or one just being made) is left alone this long. */
const UNMARKED_GRACE_MS = 10 * 60_000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
};

/** Removes scratch folders of runs that have ended; returns their names. Never throws. */
export function cleanStaleDataDirs(root: string = os.tmpdir(), nowMs: number = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try { names = fs.readdirSync(root).filter((n) => n.startsWith(PREFIX)); } catch { return removed; }
  for (const name of names) {
    const dir = path.join(root, name);
    try {
      const st = fs.lstatSync(dir);
      // Only our own folders: not a link, not another user's.
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
      let stale: boolean;
      try {
        const pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim());
        stale = !(Number.isInteger(pid) && pid > 0 && alive(pid));
      } catch {
        stale = nowMs - st.mtimeMs > UNMARKED_GRACE_MS;
      }
      if (stale) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(name);
      }
    } catch {
      // Gone meanwhile, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** A fresh scratch folder marked with this process's pid, after clearing stale ones. */
export function makeDataDir(root: string = os.tmpdir(), log: (line: string) => void = () => {}): string {
  const removed = cleanStaleDataDirs(root);
  if (removed.length) log(`removed ${removed.length} scratch folder(s) left by earlier runs: ${removed.join(', ')}`);
  const dir = fs.mkdtempSync(path.join(root, PREFIX));
  fs.writeFileSync(path.join(dir, 'pid'), `${process.pid}\n`);
  return dir;
}
