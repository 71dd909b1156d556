// A camera's tone state: IR detection with hysteresis (dusk and dawn switch a camera back and
// forth; single frames must not), exposure carried and reset.
import { describe, expect, it } from 'vitest';
import { CameraTone, MONO_DETECT } from '../../src/enhance/camera-tone.js';

const colour = { exposure: 0.4, chroma: 0.1, luma: 0.2, strength: 1.5, gamma: 0.9 };
const grey = { exposure: 0.33, chroma: 0.0001, luma: 0.23, strength: 1, gamma: 1.1 };

describe('CameraTone', () => {
  it('enters IR only after enough grey frames in a row, and leaves it the same way', () => {
    const t = new CameraTone('auto');
    const events: Array<string | undefined> = [];
    // One grey frame among colour ones: no switch.
    for (const r of [colour, grey, colour, colour]) events.push(t.observe(r));
    expect(t.mono).toBe(false);
    for (let i = 0; i < MONO_DETECT.frames - 1; i++) events.push(t.observe(grey));
    expect(t.mono).toBe(false);
    expect(t.observe(grey)).toBe('mono-on');
    expect(t.mono).toBe(true);
    expect(t.next().mono).toBe(true);
    // Colour flickers in briefly (headlights): stays IR.
    t.observe(colour); t.observe(grey);
    expect(t.mono).toBe(true);
    let last;
    for (let i = 0; i < MONO_DETECT.frames; i++) last = t.observe(colour);
    expect(last).toBe('mono-off');
    expect(t.mono).toBe(false);
    expect(events.filter(Boolean)).toEqual([]);
  });

  it('a chroma between the two thresholds changes nothing either way (hysteresis)', () => {
    const mid = { exposure: 0.3, chroma: 0.2 * (MONO_DETECT.enter + MONO_DETECT.exit) / 2, luma: 0.2, strength: 1, gamma: 1 };
    const t = new CameraTone('auto');
    for (let i = 0; i < 20; i++) t.observe(mid);
    expect(t.mono).toBe(false);
    for (let i = 0; i < MONO_DETECT.frames; i++) t.observe(grey);
    expect(t.mono).toBe(true);
    for (let i = 0; i < 20; i++) t.observe(mid);
    expect(t.mono).toBe(true);
  });

  it('carries the exposure and its fit to the next frame, forgets them on reset and on an IR switch', () => {
    const t = new CameraTone('auto');
    expect(t.next().exposureState).toBeUndefined();
    t.observe(colour);
    expect(t.next()).toEqual({ mono: false, exposureState: 0.4, fitState: { strength: 1.5, gamma: 0.9 } });
    t.observe({ ...colour, exposure: -1, strength: -1, gamma: -1 }); // exposure 'model': nothing to carry
    expect(t.next()).toEqual({ mono: false });
    t.observe(colour);
    t.reset();
    expect(t.next().exposureState).toBeUndefined();
    expect(t.next().fitState).toBeUndefined();
    t.observe(colour);
    for (let i = 0; i < MONO_DETECT.frames; i++) t.observe(grey);
    expect(t.next()).toEqual({ mono: true }); // switched on the last frame: meter afresh
  });

  it('a camera grey from its first frame settles into IR without a switch: its exposure (and the temporal state) stand', () => {
    const t = new CameraTone('auto');
    const events: Array<string | undefined> = [];
    for (let i = 0; i < MONO_DETECT.frames; i++) events.push(t.observe(grey));
    expect(events.at(-1)).toBe('mono-found');
    expect(t.next()).toEqual({ mono: true, exposureState: 0.33, fitState: { strength: 1, gamma: 1.1 } });
    // Later switches are switches again.
    for (let i = 0; i < MONO_DETECT.frames; i++) t.observe(colour);
    let last;
    for (let i = 0; i < MONO_DETECT.frames; i++) last = t.observe(grey);
    expect(last).toBe('mono-on');
  });

  it("'on' and 'off' force the mode", () => {
    const on = new CameraTone('on'), off = new CameraTone('off');
    for (let i = 0; i < 10; i++) { on.observe(colour); off.observe(grey); }
    expect(on.mono).toBe(true);
    expect(off.mono).toBe(false);
  });
});
