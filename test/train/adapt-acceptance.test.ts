// adapt's acceptance rule: a lower held-out loss is not enough; the picture must not regress in
// colour cast, clipping or lightness order beyond the stated tolerance.
import { describe, expect, it } from 'vitest';
import { acceptance, ADAPT_TOLERANCE, type PictureFigures } from '../../src/train/adapt.js';

const base: PictureFigures = { brightness: 0.42, clipped: 0.01, loe: 13.5, colorfulness: 20, cast: 0.8 };

describe('adapt acceptance', () => {
  it('accepts a lower loss with the picture within tolerance', () => {
    const r = acceptance({ loss: 10, picture: base }, { loss: 9, picture: { ...base, cast: base.cast + 0.5, loe: 15 } });
    expect(r).toEqual({ accepted: true, reasons: [] });
  });

  it('rejects a colour-casting candidate even though its loss is lower', () => {
    const r = acceptance({ loss: 10, picture: base }, { loss: 8, picture: { ...base, cast: base.cast + ADAPT_TOLERANCE.cast + 2 } });
    expect(r.accepted).toBe(false);
    expect(r.reasons.join()).toMatch(/neutral colour cast 3\.80 > 0\.80/);
  });

  it('rejects the LOE regression the old rule accepted (13.5 → 206), and extra clipping', () => {
    const r = acceptance({ loss: 10, picture: base }, { loss: 9.5, picture: { ...base, loe: 206, clipped: base.clipped + 0.02 } });
    expect(r.accepted).toBe(false);
    expect(r.reasons).toHaveLength(2);
    expect(r.reasons.join()).toMatch(/LOE 206\.0/);
    expect(r.reasons.join()).toMatch(/clipped 3\.00 %/);
  });

  it('rejects a higher loss and says so', () => {
    expect(acceptance({ loss: 10, picture: base }, { loss: 11, picture: base }).reasons).toEqual(['the held-out loss rose from 10.0000 to 11.0000']);
  });
});
