// The one file that loads onnxruntime-node. Sessions are opened on an ordered list of execution
// providers; each one that fails is recorded with its reason, so a run can say where it runs and why.
import os from 'node:os';
import ort from 'onnxruntime-node';
import { PieError, messageOf } from '../errors.js';

export type Provider = 'cpu' | 'webgpu' | 'cuda';
export type ProviderChoice = Provider | 'auto';
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** Best first. CUDA only works where its libraries were installed (ONNXRUNTIME_NODE_INSTALL=cuda12). */
const AUTO_ORDER: readonly Provider[] = ['cuda', 'webgpu', 'cpu'];

export interface Fallback { readonly provider: Provider; readonly reason: string }

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly provider: Provider;
  /** Providers tried before `provider`, with why each one could not be used. */
  readonly fallbacks: readonly Fallback[];
  readonly threads: number;
}

export interface SessionOptions {
  /** Intra-op threads for the CPU provider; default: all cores. */
  threads?: number;
  /**
   * Let idle intra-op threads spin-wait for work (ORT's default, best for one big job). A live
   * pipeline turns it off: between frames the spinning threads burned about half a core per
   * session here (71% vs 22–29% of a core at 360p, 15 fps, same speed), CPU other cameras need.
   */
  spin?: boolean;
}

export function providerOrder(choice: ProviderChoice): readonly Provider[] {
  return choice === 'auto' ? AUTO_ORDER : [choice];
}

function firstLine(s: string): string {
  // Native errors carry source paths and multi-line dumps; the first meaningful line says enough.
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  const pick = lines.find((l) => /fail|unable|not|error/i.test(l)) ?? lines[0] ?? s;
  return pick.replace(/^\/\S+:\d+\s+/, '').slice(0, 240);
}

export async function openSession(model: Uint8Array, choice: ProviderChoice, opts: SessionOptions = {}): Promise<OpenedSession> {
  const threads = opts.threads ?? os.availableParallelism();
  const fallbacks: Fallback[] = [];
  for (const provider of providerOrder(choice)) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        ...(opts.spin === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
      });
      return { session, provider, fallbacks, threads };
    } catch (e) {
      fallbacks.push({ provider, reason: firstLine(messageOf(e)) });
    }
  }
  const tried = fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ');
  // If even the CPU provider rejects it, the model is at fault, not the provider.
  const cpuFailed = fallbacks.some((f) => f.provider === 'cpu');
  throw new PieError(
    cpuFailed ? 'model' : 'provider',
    `no execution provider could open the model (${tried})`,
    cpuFailed
      ? 'the model itself is rejected by ONNX Runtime; regenerate it with pie-stream'
      : `use --ep auto or --ep cpu; ${choice === 'cuda' ? 'for CUDA reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci where the internet is reachable' : 'WebGPU needs a GPU with Vulkan drivers'}`,
  );
}

/** One sentence for logs: where the session runs and why not on something better. */
export function describeSession(s: Pick<OpenedSession, 'provider' | 'fallbacks' | 'threads'>): string {
  const where = s.provider === 'cpu' ? `cpu (${s.threads} threads)` : s.provider;
  if (s.fallbacks.length === 0) return `execution provider: ${where}`;
  return `execution provider: ${where}; ${s.fallbacks.map((f) => `${f.provider} unavailable: ${f.reason}`).join('; ')}`;
}

export { ort };
export type OrtTensor = ort.Tensor;
