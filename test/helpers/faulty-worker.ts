// A deliberately faulty stand-in for the inference worker (tests only): the real handler
// (src/workers/handler.ts) with faults that cannot be produced on demand otherwise. Set in
// process.env before the pool starts (a worker copies the environment when it starts):
// - PIE_TEST_WORKER_DELAY_MS (+ PIE_TEST_WORKER_DELAY_ON, a request type, default detect): each such
//   request first blocks the thread that long, as a session slower than the frame rate does (the
//   real one blocks the same way, inside session.run).
// - PIE_TEST_WORKER_CRASH_EVERY=n: the worker crashes while its n-th enhance request runs.
// - A frame whose first pixel is (255, 0, 255) makes the worker crash while its batch runs.
import { createHandler, serve } from '../../src/workers/handler.js';
import type { Request } from '../../src/workers/protocol.js';

const delayMs = Number(process.env.PIE_TEST_WORKER_DELAY_MS ?? 0);
const delayOn = process.env.PIE_TEST_WORKER_DELAY_ON ?? 'detect';
const crashEvery = Number(process.env.PIE_TEST_WORKER_CRASH_EVERY ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const real = createHandler();
let enhances = 0;
const poisoned = (req: Request): boolean =>
  (req.type === 'enhance' || req.type === 'curves') && req.frames.some((f) => f.data[0] === 255 && f.data[1] === 0 && f.data[2] === 255);
const crash = (): void => { setImmediate(() => { throw new Error('faulty-worker: simulated crash mid-batch'); }); };

serve(async (req) => {
  if (req.type === delayOn && delayMs > 0) Atomics.wait(sleeper, 0, 0, delayMs);
  if (req.type === 'enhance' && crashEvery > 0 && ++enhances % crashEvery === 0) crash();
  if (poisoned(req)) crash();
  return real(req);
});
