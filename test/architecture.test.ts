// The pure core imports no IO: graph building, DCE-Net, image math and training math must run
// anywhere (and be testable on tiny buffers). And exactly one file loads each native boundary.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

const SRC = path.join(REPO_ROOT, 'src');
const files = (fs.readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => f.split(path.sep).join('/'));
const importsOf = (f: string): string[] =>
  [...fs.readFileSync(path.join(SRC, f), 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

const PURE = [/^pipeline\//, /^config\/schema\.ts$/, /^onnx\/(?!.*runtime)/, /^enhance\/(dcenet|graph|grid-kernel)\.ts$/, /^image\/(types|bmp|hsv)\.ts$/, /^train\/boc\.ts$/, /^regions\//, /^denoise\/(noise-model|graph|transfer|global-motion)\.ts$/, /^ingest\/(ffmpeg-args|redact|synthetic)\.ts$/];
const IO = /^(node:|fs$|child_process$|onnxruntime-node$|sharp$)/;

describe('architecture', () => {
  it('keeps the pure core free of IO and native modules', () => {
    const offenders = files.filter((f) => PURE.some((p) => p.test(f))).flatMap((f) => importsOf(f).filter((i) => IO.test(i)).map((i) => `${f} imports ${i}`));
    expect(offenders).toEqual([]);
  });

  it('loads onnxruntime-node in one file and sharp in one file', () => {
    const loaders = (mod: string): string[] => files.filter((f) => importsOf(f).includes(mod));
    expect(loaders('onnxruntime-node')).toEqual(['enhance/session.ts']);
    expect(loaders('sharp')).toEqual(['image/io.ts']);
  });

  it('compiles the WebAssembly kernels in one file', () => {
    expect(files.filter((f) => fs.readFileSync(path.join(SRC, f), 'utf8').includes('new WebAssembly.Module('))).toEqual(['native/wasm.ts']);
  });

  it('spawns processes in one file', () => {
    expect(files.filter((f) => importsOf(f).includes('node:child_process'))).toEqual(['ingest/ffmpeg-process.ts']);
  });
});
