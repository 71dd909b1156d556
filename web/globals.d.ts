// The players' globals as the viewer uses them: JSMpeg from @cycjimmy/jsmpeg-player's UMD build
// (it ships no types), hls.js from its own declarations.
import type HlsClass from 'hls.js';

declare global {
  interface JSMpegPlayerOptions {
    canvas?: HTMLCanvasElement;
    audio?: boolean;
    autoplay?: boolean;
    pauseWhenHidden?: boolean;
    reconnectInterval?: number;
    preserveDrawingBuffer?: boolean;
    disableGl?: boolean;
    videoBufferSize?: number;
    onVideoDecode?: () => void;
  }
  interface JSMpegPlayer {
    destroy(): void;
  }
  const JSMpeg: { Player: new (url: string, options: JSMpegPlayerOptions) => JSMpegPlayer };
  type HlsPlayer = HlsClass;
  const Hls: typeof HlsClass;
}
export {};
