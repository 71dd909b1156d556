// The image record passed between stages: packed 8-bit RGB, row-major, no padding.
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 3 bytes. */
  readonly data: Uint8Array;
}

export const rgbBytes = (width: number, height: number): number => width * height * 3;
