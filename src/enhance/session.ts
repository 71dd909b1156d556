// The one file that loads onnxruntime-node. Sessions are opened on an ordered list of execution
// providers; each one that fails is recorded with its reason, so a run can say where it runs and why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { PieError, messageOf } from '../errors.js';

// ORT's own logger printed every failed provider probe as an [E:onnxruntime…] block on stderr; the
// failures are reported here, one short line per provider, so only fatal native lines remain.
// Applied once, when ORT initialises (the first session).
ort.env.logLevel = 'fatal';

export type Provider = 'cpu' | 'webgpu' | 'cuda';
export type ProviderChoice = Provider | 'auto';
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** Best first. CUDA only works where its libraries were installed (README: Execution providers). */
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

/** Why a provider could not open, in words for people (the viewer shows it): no C++ signatures. */
export function providerReason(provider: Provider, message: string): string {
  if (provider === 'cuda' && /load (shared )?library|providers_shared|providers_cuda|cannot open shared object/i.test(message)) {
    return 'CUDA provider libraries not installed (see README: Execution providers)';
  }
  if (provider === 'webgpu' && /adapter/i.test(message)) return 'no GPU adapter found';
  // Drop C++ frames such as "onnxruntime::webgpu::X::Initialize(…)::<lambda()>".
  return firstLine(message).replace(/\S*::\S*(\([^)]*\))?(::<lambda\(\)>)?\s*/g, '').trim().slice(0, 160) || 'failed to start';
}

/**
 * A WebGPU probe on a machine without a display let libwayland print "XDG_RUNTIME_DIR is invalid"
 * twice: give the probe a private runtime folder when the environment has none.
 */
function quietProbeEnvironment(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = path.join(os.tmpdir(), `pie-xdg-${process.getuid?.() ?? 'user'}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700, recursive: true });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Only a warning on stderr is at stake.
  }
}

export async function openSession(model: Uint8Array, choice: ProviderChoice, opts: SessionOptions = {}): Promise<OpenedSession> {
  const threads = opts.threads ?? os.availableParallelism();
  const fallbacks: Fallback[] = [];
  for (const provider of providerOrder(choice)) {
    if (provider === 'webgpu') quietProbeEnvironment();
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
      fallbacks.push({ provider, reason: providerReason(provider, messageOf(e)) });
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
      : `use --ep auto or --ep cpu; ${choice === 'cuda' ? 'for CUDA run ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js where the internet is reachable' : 'WebGPU needs a GPU with Vulkan drivers'}`,
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
