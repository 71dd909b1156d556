// A real MQTT broker for tests: Debian's mosquitto in the foreground on a free port of 127.0.0.1,
// from a generated config (no daemon, no persistence). Absent mosquitto, MOSQUITTO is undefined and
// the suites that need it skip, saying why.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const MOSQUITTO = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']
  .map((d) => path.join(d, 'mosquitto')).find((p) => fs.existsSync(p));
export const MOSQUITTO_SKIP = MOSQUITTO ? undefined : 'skipped: mosquitto not found (apt-get install mosquitto; .ci/run installs it)';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** mosquitto on 127.0.0.1:port, its config in `dir`; resolves once it accepts connections. */
export async function startBroker(port: number, dir: string): Promise<ChildProcess> {
  if (!MOSQUITTO) throw new Error(MOSQUITTO_SKIP);
  const conf = path.join(dir, `mosquitto-${port}.conf`);
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const deadline = Date.now() + 5000;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return p;
    if (Date.now() > deadline) { p.kill('SIGKILL'); throw new Error(`mosquitto did not listen on ${port}: ${err}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills the broker (SIGKILL: a crash, not a clean shutdown) and waits for it to be gone. */
export async function stopBroker(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}
