import { describe, expect, it } from 'vitest';
import { DropCounter } from '../../src/pipeline/dropCounter.js';

describe('DropCounter', () => {
  it('counts per camera and per reason, and totals', () => {
    const d = new DropCounter();
    d.drop('a', 'fps');
    d.drop('a', 'fps', 2);
    d.drop('a', 'busy');
    d.drop('b', 'slow-client');
    expect(d.count()).toBe(5);
    expect(d.count('a')).toBe(4);
    expect(d.count('a', 'fps')).toBe(3);
    expect(d.count(undefined, 'busy')).toBe(1);
    expect(d.count('nobody')).toBe(0);
    expect(d.snapshot()).toEqual({
      a: { fps: 3, 'batch-replaced': 0, busy: 1, failed: 0, late: 0, encoder: 0, 'slow-client': 0 },
      b: { fps: 0, 'batch-replaced': 0, busy: 0, failed: 0, late: 0, encoder: 0, 'slow-client': 1 },
    });
  });

  it('hands a snapshot that later drops do not change', () => {
    const d = new DropCounter();
    d.drop('a', 'fps');
    const s = d.snapshot();
    d.drop('a', 'fps');
    expect(s['a']?.fps).toBe(1);
  });

  it('tells listeners, and a throwing listener breaks neither the counter nor the others', () => {
    const errors: unknown[] = [];
    const d = new DropCounter((e) => errors.push(e));
    const heard: string[] = [];
    d.onDrop(() => { throw new Error('metrics down'); });
    const off = d.onDrop((e) => heard.push(`${e.camera}:${e.reason}:${e.count}`));
    expect(() => d.drop('a', 'busy', 2)).not.toThrow();
    off();
    d.drop('a', 'busy');
    expect(heard).toEqual(['a:busy:2']);
    expect(d.count('a', 'busy')).toBe(3);
    expect(errors).toHaveLength(2);
  });

  it('ignores counts that are not positive', () => {
    const d = new DropCounter();
    d.drop('a', 'fps', 0);
    expect(d.snapshot()).toEqual({});
  });
});
