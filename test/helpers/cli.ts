// Runs the pie-stream CLI in-process and captures what it writes to stderr.
import { main } from '../../src/cli/main.js';

export async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((s: string | Uint8Array) => { err += String(s); return true; }) as typeof process.stderr.write;
  try {
    return { code: await main(args), err };
  } finally {
    process.stderr.write = write;
    process.exitCode = 0;
  }
}
