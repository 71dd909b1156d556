// npm run bench -- <name> [flags]: runs bench/<name>.ts. Benchmarks print figures, the machine
// and the baseline with ratios, and write JSON to bench/results/. They are not tests.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCHES = ['enhance', 'curve-apply', 'tone-ab', 'train', 'flicker', 'pipeline', 'detect', 'detect-models', 'denoise', 'still', 'false-faces', 'cluster'] as const;
const name = process.argv[2];
if (!name || !(BENCHES as readonly string[]).includes(name)) {
  console.error(`usage: npm run bench -- <${BENCHES.join('|')}> [flags]`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), `${name}.ts`)).href);
