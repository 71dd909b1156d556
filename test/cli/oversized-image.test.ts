// Images whose header announces more pixels than the enhancer's memory budget (or libvips' decode
// limit) are refused by name before anything is decoded. The files are real PNGs whose IHDR says
// 16000² or 20000² (pixel data a few bytes, so the test stays small); nothing reads past the header.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runEnhance } from '../../src/cli/enhance.js';
import { Enhancer } from '../../src/enhance/enhancer.js';
import { readImage } from '../../src/image/io.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-big-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer): number => {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type: string, data: Buffer): Buffer => {
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
/** An 8-bit RGB PNG header of the given size, with one row of pixel data. */
function bigPng(file: string, width: number, height: number): string {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  const row = zlib.deflateSync(Buffer.alloc(1 + width * 3));
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', row), chunk('IEND', Buffer.alloc(0))]));
  return file;
}

describe('oversized images', () => {
  it('refuses an image over the memory budget by name and limit, before decoding it', async () => {
    const file = bigPng(path.join(root, 'huge.png'), 16000, 16000);
    const before = process.memoryUsage().rss;
    const r = await runEnhance({ inputs: [file], output: path.join(root, 'out'), downscale: 4, provider: 'cpu', batch: 1, quiet: true }, () => {});
    expect(r.done).toEqual([]);
    expect(r.failed[0]!.message).toMatch(/huge\.png: 16000x16000 needs about \d+\.\d GiB to enhance with curves at 1\/4, over the 2048 MiB memory budget/);
    expect(r.failed[0]!.message).toMatch(/fix: downscale it to at most \d+x\d+ first/);
    // Nothing of the 768 MB the pixels would take was allocated.
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 2 ** 20);
  }, 30_000);

  it('keeps the budget for a frame handed to the enhancer directly (no batch-of-one bypass)', async () => {
    const e = await Enhancer.open({ downscale: 4, memoryBudgetMiB: 16 });
    try {
      await expect(e.enhance([{ width: 512, height: 512, data: new Uint8Array(512 * 512 * 3) }])).rejects.toThrow(/a frame: 512x512 needs about .* over the 16 MiB memory budget/);
      expect((await e.enhance([{ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) }])).frames).toHaveLength(1);
    } finally {
      await e.close();
    }
  });

  it('says an image over the decoder limit is too large, not incomplete', async () => {
    const file = bigPng(path.join(root, 'vast.png'), 20000, 20000);
    const e = await readImage(file).then(() => undefined, (err: unknown) => err as Error);
    expect(e?.message).toMatch(/vast\.png: the image is too large to decode \(20000x20000, over 268402689 pixels\)/);
    expect(e?.message).not.toMatch(/complete/);
  });
});
