// A deliberately faulty stand-in for the inference worker (tests only): the real handler
// (src/workers/handler.ts) with two faults that cannot be produced on demand otherwise.
// - PIE_TEST_WORKER_DELAY_MS: each detect request first blocks the thread that long, as a detector
//   slower than the camera's frame rate does (the real one blocks the same way, in session.run).
// - A frame whose first pixel is (255, 0, 255) makes the worker crash while its batch runs.
import { createHandler, serve } from '../../src/workers/handler.js';
import type { Request } from '../../src/workers/protocol.js';

const delayMs = Number(process.env.PIE_TEST_WORKER_DELAY_MS ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const real = createHandler();
const poisoned = (req: Request): boolean =>
  (req.type === 'enhance' || req.type === 'curves') && req.frames.some((f) => f.data[0] === 255 && f.data[1] === 0 && f.data[2] === 255);

serve(async (req) => {
  if (req.type === 'detect' && delayMs > 0) Atomics.wait(sleeper, 0, 0, delayMs);
  if (poisoned(req)) setImmediate(() => { throw new Error('faulty-worker: simulated crash mid-batch'); });
  return real(req);
});
