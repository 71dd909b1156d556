import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { inOrder } from '../../src/pipeline/inOrder.js';

const f = (camera: string, seq: number): { camera: string; seq: number } => ({ camera, seq });

describe('inOrder', () => {
  it('drops a frame that comes after a newer one of its camera, counts it late, and leaves other cameras alone', async () => {
    const drops = new DropCounter();
    // Two workers finished batch [a2, b1] before [a1]: a1 is stale; b's frames are in order.
    const batches = [[f('a', 0), f('b', 0)], [f('a', 2), f('b', 1)], [f('a', 1)], [f('a', 3), f('a', 3)], [f('b', 2)]];
    const out = await lastValueFrom(from(batches).pipe(inOrder(drops), toArray()));
    expect(out.map((b) => b.map((x) => `${x.camera}${x.seq}`))).toEqual([['a0', 'b0'], ['a2', 'b1'], [], ['a3'], ['b2']]);
    expect(drops.snapshot().a!.late).toBe(2); // a1, and a3 again
    expect(drops.snapshot().b?.late ?? 0).toBe(0);
  });

  it('keeps its memory per subscription', async () => {
    const drops = new DropCounter();
    const op = inOrder<{ camera: string; seq: number }>(drops);
    await lastValueFrom(from([[f('a', 5)]]).pipe(op, toArray()));
    const again = await lastValueFrom(from([[f('a', 1)]]).pipe(op, toArray()));
    expect(again).toEqual([[f('a', 1)]]);
  });
});
