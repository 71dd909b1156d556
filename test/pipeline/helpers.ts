// Tiny frames for operator tests: only what the operators read, plus an id to tell frames apart.
import { expect } from 'vitest';
import { TestScheduler } from 'rxjs/testing';

export interface TestFrame {
  readonly id: string;
  readonly camera: string;
  readonly ptsMs: number;
  readonly width: number;
  readonly height: number;
}

export const frame = (id: string, camera: string, ptsMs = 0, width = 640, height = 360): TestFrame => ({ id, camera, ptsMs, width, height });

/** Virtual time: in `run`, one marble character is 1 ms and asyncScheduler runs on it. */
export const testScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
