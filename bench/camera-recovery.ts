// Recovery after an RTSP outage: a real camera server (GStreamer) streams, goes away for N s, comes
// back on the same port; prints how long after its return frames flowed again, with the default
// restart schedule. Usage: npx tsx bench/camera-recovery.ts 5 30 300   (outages in seconds)
import { CameraSource } from '../src/ingest/camera-source.js';
import { RtspServer, rtspServerMissing } from '../test/helpers/rtsp-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const missing = rtspServerMissing();
if (missing) { console.error(missing); process.exit(1); }
for (const outageS of process.argv.slice(2).map(Number)) {
  let server = await RtspServer.start({ width: 320, height: 240, fps: 10 });
  const port = server.port;
  let frames = 0;
  const cam = new CameraSource({ name: 'bench', width: 320, height: 240, fps: 10, input: { kind: 'rtsp', url: server.url() } });
  cam.frames$.subscribe(() => { frames++; });
  cam.start();
  // Healthy for 35 s: past the 30 s after which earlier failures are forgiven, as a real camera would be.
  await sleep(35_000);
  await server.stop();
  await sleep(outageS * 1000);
  server = await RtspServer.start({ port, width: 320, height: 240, fps: 10 });
  const back = Date.now();
  const before = frames;
  while (frames === before) await sleep(50);
  console.log(`outage ${outageS} s: frames again ${((Date.now() - back) / 1000).toFixed(1)} s after the server returned (restarts ${cam.status().restarts})`);
  await cam.stop();
  await server.stop();
}
