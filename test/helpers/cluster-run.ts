// `pie-stream run -c <config>` as its own process from the sources (tests spawn it: real nodes with
// the real app, encoders and front). Run: node --import tsx test/helpers/cluster-run.ts <config.yaml>
import { main } from '../../src/cli/main.js';

process.exitCode = await main(['run', '-c', process.argv[2]!]);
