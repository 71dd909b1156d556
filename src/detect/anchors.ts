// SSD anchors as MediaPipe's SsdAnchorsCalculator lays them out, for BlazeFace's two heads and the
// full-range detector's one.
// Pure: the anchors are a function of the options alone, computed once per model.

/** One anchor, normalised to the model input ([0,1] across its width and height). */
export interface Anchor {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The subset of MediaPipe's SsdAnchorsCalculatorOptions that BlazeFace uses. */
export interface AnchorOptions {
  readonly inputSize: number;
  readonly strides: readonly number[];
  readonly minScale: number;
  readonly maxScale: number;
  readonly offset: number;
  readonly aspectRatios: readonly number[];
  /** > 0 adds one anchor per layer at the geometric mean of this and the next layer's scale. */
  readonly interpolatedScaleAspectRatio: number;
  /** Width and height 1: the regressors carry the whole size (BlazeFace's choice). */
  readonly fixedAnchorSize: boolean;
}

/** The detectors `detect.model` chooses from: BlazeFace back and front, MediaPipe's full range. */
export const FACE_MODELS = ['back', 'front', 'full-range'] as const;
export type FaceModel = (typeof FACE_MODELS)[number];
export type BlazeFaceModel = Exclude<FaceModel, 'full-range'>;
export const isFaceModel = (s: string): s is FaceModel => (FACE_MODELS as readonly string[]).includes(s);

/**
 * MediaPipe's graphs for the two models: front (short range, 128²) and back (256²). Layers that
 * share a stride are merged, so both give 16×16×2 + 8×8×6 = 896 anchors in the order of the
 * model's outputs (the 512-anchor head first).
 */
export const BLAZEFACE_ANCHORS: Readonly<Record<BlazeFaceModel, AnchorOptions>> = {
  front: { inputSize: 128, strides: [8, 16, 16, 16], minScale: 0.1484375, maxScale: 0.75, offset: 0.5, aspectRatios: [1], interpolatedScaleAspectRatio: 1, fixedAnchorSize: true },
  back: { inputSize: 256, strides: [16, 32, 32, 32], minScale: 0.15625, maxScale: 0.75, offset: 0.5, aspectRatios: [1], interpolatedScaleAspectRatio: 1, fixedAnchorSize: true },
};

/**
 * Every detector's anchors. Full range (face_detection_full_range.pbtxt): one layer of stride 4
 * on 192², one anchor per cell, no interpolated anchor: 48×48 = 2,304 anchors.
 */
export const FACE_ANCHORS: Readonly<Record<FaceModel, AnchorOptions>> = {
  ...BLAZEFACE_ANCHORS,
  'full-range': { inputSize: 192, strides: [4], minScale: 0.1484375, maxScale: 0.75, offset: 0.5, aspectRatios: [1], interpolatedScaleAspectRatio: 0, fixedAnchorSize: true },
};

function layerScale(o: AnchorOptions, layer: number): number {
  const n = o.strides.length;
  return n === 1 ? (o.minScale + o.maxScale) / 2 : o.minScale + ((o.maxScale - o.minScale) * layer) / (n - 1);
}

export function generateAnchors(o: AnchorOptions): Anchor[] {
  const anchors: Anchor[] = [];
  let layer = 0;
  while (layer < o.strides.length) {
    const stride = o.strides[layer]!;
    // All consecutive layers of one stride share a feature map: their anchors interleave per cell.
    const sizes: Array<{ w: number; h: number }> = [];
    let last = layer;
    for (; last < o.strides.length && o.strides[last] === stride; last++) {
      const scale = layerScale(o, last);
      for (const r of o.aspectRatios) sizes.push({ w: scale * Math.sqrt(r), h: scale / Math.sqrt(r) });
      if (o.interpolatedScaleAspectRatio > 0) {
        const next = last === o.strides.length - 1 ? 1 : layerScale(o, last + 1);
        const s = Math.sqrt(scale * next);
        const r = o.interpolatedScaleAspectRatio;
        sizes.push({ w: s * Math.sqrt(r), h: s / Math.sqrt(r) });
      }
    }
    const cells = Math.ceil(o.inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (const s of sizes) {
          anchors.push({
            x: (x + o.offset) / cells,
            y: (y + o.offset) / cells,
            width: o.fixedAnchorSize ? 1 : s.w,
            height: o.fixedAnchorSize ? 1 : s.h,
          });
        }
      }
    }
    layer = last;
  }
  return anchors;
}
