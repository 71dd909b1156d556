// vitest's 5 s default is a speed test in disguise: on the 2-core CI machine an ONNX session build
// plus a few runs can take longer. Timeouts here catch hangs, not slowness (speed lives in bench/).
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
