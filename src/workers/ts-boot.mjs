// Starts a TypeScript worker entry when pie-stream runs from its sources (vitest, tsx, npm run
// bench): a worker thread does not inherit tsx's loader, so it registers it, then loads the entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
