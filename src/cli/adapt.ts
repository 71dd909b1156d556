// `pie-stream adapt`: fine-tunes the base model for one camera with a progress bar, then says
// whether the camera's model was replaced and where the card is. With a cluster config, the
// cameras come from the cluster's catalogue and an accepted model is published to the object store,
// where the camera's owner (and any later owner) loads it.
import { listCameras, openBuckets } from '../cluster/buckets.js';
import { openBus, type Bus } from '../cluster/connection.js';
import { openModels, publishModel } from '../cluster/models.js';
import type { CameraConfig, ClusterConfig, PieConfig } from '../config/schema.js';
import { PieError } from '../errors.js';
import { adapt, type AdaptOptions, type AdaptResult } from '../train/adapt.js';
import type { StepReport } from '../train/trainer.js';
import { loadFeatures } from './train.js';
import { Progress } from './progress.js';

export type AdaptCommandOptions = Omit<AdaptOptions, 'features' | 'onStep' | 'log'> & { readonly features: string; readonly quiet?: boolean; readonly cluster?: ClusterConfig };

/** A JetStream connection for one command; closed whatever happens. */
export async function withClusterBus<T>(cluster: ClusterConfig, f: (bus: Bus) => Promise<T>): Promise<T> {
  const bus = await openBus(cluster, { timeoutMs: 5000 });
  try { return await f(bus); } finally { await bus.close(); }
}

/** The cameras a camera:<name> source may name: the config's, or in cluster mode the catalogue's (those valid here). */
export async function adaptCameras(config: PieConfig): Promise<readonly CameraConfig[]> {
  if (!config.cluster) return config.cameras;
  return withClusterBus(config.cluster, async (bus) => (await listCameras(await openBuckets(bus), process.env)).flatMap((c) => (c.config ? [c.config] : [])));
}

export async function runAdapt(o: AdaptCommandOptions, log: (s: string) => void): Promise<AdaptResult> {
  if (!o.night.length) throw new PieError('usage', 'no night footage', 'pass --night <video|folder> (the camera\'s own dark frames)');
  const features = o.weights.perceptual || o.weights.nce ? loadFeatures(o.features) : undefined;
  const bar = new Progress('adapt', o.steps, process.stderr, o.quiet);
  const onStep = (r: StepReport): void => bar.update(r.step, r.steps, `loss ${r.losses.total.toPrecision(4)} ${r.ms.toFixed(0)} ms/step`);
  const { features: _name, quiet: _quiet, cluster, ...rest } = o;
  if (!features && (o.weights.perceptual || o.weights.nce)) log('no feature network: the perceptual and contrastive terms are off');
  const weights = features ? o.weights : { ...o.weights, perceptual: 0, nce: 0 };
  const r = await adapt({ ...rest, weights, ...(features ? { features } : {}), onStep, log });
  bar.done();
  log(r.accepted
    ? `accepted: ${r.model} (held-out loss ${r.base.total.toPrecision(4)} → ${r.adapted.total.toPrecision(4)}); card ${r.card}`
    : `rejected: held-out loss ${r.base.total.toPrecision(4)} → ${r.adapted.total.toPrecision(4)}; kept ${r.model}, candidate ${r.candidate}; card ${r.card}`);
  if (cluster && r.accepted) {
    const p = await withClusterBus(cluster, async (bus) => publishModel(await openModels(bus), o.camera, r.model));
    log(`published to the cluster: ${o.camera}'s owner loads it (${p.bytes} bytes, sha256 ${p.sha256.slice(0, 12)}…)`);
  } else if (cluster) {
    log(`not published: the cluster keeps ${o.camera}'s current model`);
  }
  return r;
}
