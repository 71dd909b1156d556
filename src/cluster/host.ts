// What the cluster drives: something that runs cameras. The app implements it with a thin adapter,
// so the lease loop (node.ts) knows nothing of pipelines and the pipeline nothing of leases.
import type { CameraConfig } from '../config/schema.js';

export interface HostedCamera {
  readonly name: string;
  /** The camera's own state as its source reports it (online, restarting, …). */
  readonly state: string;
  readonly framesTotal: number;
  /** The model file it runs when that came from the object store (named by content). */
  readonly model?: string;
}

export interface CameraHost {
  /** Starts processing a camera; resolves once it runs (not once frames flow). */
  start(camera: CameraConfig): Promise<void>;
  /** Stops a camera; resolves when nothing of it runs any more. Unknown names resolve at once. */
  stop(name: string): Promise<void>;
  status(): readonly HostedCamera[];
}
