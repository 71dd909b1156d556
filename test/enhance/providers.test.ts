// provider: auto on a machine without CUDA libraries or a GPU: one short line per provider, and no
// native log blocks on the console (run in a child process, so its stderr is what a user sees).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerReason } from '../../src/enhance/session.js';

describe('execution provider probing', () => {
  it('says why a provider is unavailable in words, without C++ signatures', () => {
    expect(providerReason('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'))
      .toBe('CUDA provider libraries not installed (see README: Execution providers)');
    expect(providerReason('webgpu', 'onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> ' +
      'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters')).toBe('no GPU adapter found');
    expect(providerReason('webgpu', 'onnxruntime::Foo::Bar(int)::<lambda()> device lost')).toBe('device lost');
  });

  it('keeps ONNX Runtime\'s native error blocks and the XDG_RUNTIME_DIR warnings off the console', () => {
    const env = { ...process.env };
    delete env.XDG_RUNTIME_DIR;
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('test', 'enhance', 'fixtures', 'probe-auto.ts')], { env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\[E:onnxruntime|XDG_RUNTIME_DIR/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { describe: string; fallbacks: Array<{ reason: string }> };
    for (const f of out.fallbacks) {
      expect(f.reason).not.toMatch(/::/);
      expect(f.reason.length).toBeLessThan(100);
    }
  }, 120_000);
});
