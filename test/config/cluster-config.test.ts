import { describe, expect, it } from 'vitest';
import { parseConfig, redactConfig } from '../../src/config/load.js';
import { cameraDenoise } from '../../src/config/schema.js';
import { camerasOfFile, validateCamera } from '../../src/cluster/buckets.js';
import { problems } from './problems.js';

const CLUSTER = 'cluster:\n  servers: [nats://127.0.0.1:4222]\n  node: gpu-1\n  capacity: 4\n';


describe('config: cluster', () => {
  it('is absent by default, so a node runs alone', () => {
    expect(parseConfig('cameras:\n  - { name: cam, input: synthetic }\n', { env: {} }).cluster).toBeUndefined();
  });

  it('takes cameras from the cluster: none needed locally, defaults filled in', () => {
    const c = parseConfig(CLUSTER, { env: {} });
    expect(c.cameras).toEqual([]);
    expect(c.cluster).toEqual({ servers: ['nats://127.0.0.1:4222'], node: 'gpu-1', capacity: 4, leaseMs: 5000, events: { maxAgeS: 86400, maxBytes: 256 * 1024 * 1024 } });
  });

  it('carries a camera\'s own denoise keys into the bucket and back; the rest follows the running node\'s enhance section', () => {
    const file = 'cameras:\n  - { name: yard, input: synthetic, denoise: off }\n  - { name: lobby, input: synthetic, denoise: spatial, denoiseStrength: 6 }\n  - { name: gate, input: synthetic }\n';
    const raws = camerasOfFile('site.yaml', file, {});
    expect(raws.map((r) => [r['denoise'], r['denoiseStrength']])).toEqual([['off', undefined], ['spatial', 6], [undefined, undefined]]);
    // As a node reads them back from the bucket (JSON), validated by the same schema.
    const cams = raws.map((r) => validateCamera(JSON.parse(JSON.stringify(r)) as Record<string, unknown>, {}));
    const node = parseConfig(`${CLUSTER}enhance: { denoise: temporal, denoiseStrength: 3 }\n`, { env: {} });
    expect(cams.map((c) => cameraDenoise(node.enhance, c))).toEqual([{ mode: 'off', strength: null }, { mode: 'spatial', strength: 6 }, { mode: 'temporal', strength: 3 }]);
    // A stored camera with a wrong value is refused with the same message as a local file.
    expect(() => validateCamera({ name: 'yard', input: 'synthetic', denoise: 'strong' }, {})).toThrow(/cameras\[0\]\.denoise.*expected off, spatial or temporal, got "strong" — fix: denoise: temporal/s);
  });

  it('without cluster, cameras are still required', () => {
    expect(problems('enhance: { scale: 1/4 }\n')).toEqual([expect.objectContaining({ path: 'cameras', message: expect.stringMatching(/^missing — fix: .*cluster:/) })]);
  });

  it('reads credentials from the environment and never shows them', () => {
    const c = parseConfig(`${CLUSTER}  user: \${NU}\n  password: \${NP}\n`, { env: { NU: 'pie', NP: 's3cret-pw' } });
    expect(c.cluster?.password).toBe('s3cret-pw');
    expect(JSON.stringify(redactConfig(c))).not.toContain('s3cret-pw');
    const missing = problems(`${CLUSTER}  user: pie\n  password: \${NP}\n`);
    expect(missing).toEqual([expect.objectContaining({ path: 'cluster.password', message: expect.stringMatching(/NP is not set/) })]);
  });

  it('refuses credentials in a server URL without echoing them', () => {
    const p = problems('cluster:\n  servers: [nats://pie:hunter2@10.0.0.1:4222]\n  node: a\n  capacity: 1\n');
    expect(p).toEqual([expect.objectContaining({ path: 'cluster.servers[0]', message: expect.stringMatching(/^holds credentials — fix:/) })]);
    expect(JSON.stringify(p)).not.toContain('hunter2');
  });

  it('names each wrong key with its fix', () => {
    const p = problems('cluster:\n  servers: http://x\n  node: Big Node\n  capacity: -1\n  leaseMs: 10\n  lease: 3\n');
    const byPath = Object.fromEntries(p.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath).sort()).toEqual(['cluster.capacity', 'cluster.lease', 'cluster.leaseMs', 'cluster.node', 'cluster.servers[0]'].sort());
    expect(byPath['cluster.lease']).toMatch(/did you mean leaseMs\?/);
    expect(byPath['cluster.servers[0]']).toMatch(/got a http:\/\/ URL/);
  });

  it('wants user and password together, and not with a token', () => {
    expect(problems(`${CLUSTER}  user: pie\n`)).toEqual([expect.objectContaining({ path: 'cluster.password' })]);
    expect(problems(`${CLUSTER}  user: a\n  password: b\n  token: c\n`)).toEqual([expect.objectContaining({ path: 'cluster.token' })]);
    expect(problems(`${CLUSTER}  tls: { cert: a.pem }\n`)).toEqual([expect.objectContaining({ path: 'cluster.tls.key', message: expect.stringMatching(/both cert and key/) })]);
  });

  it('checks the advertised url: host and port only, and not loopback when other machines are in the cluster', () => {
    expect(parseConfig(`${CLUSTER}  url: http://10.0.0.5:8080/\n`, { env: {} }).cluster?.url).toBe('http://10.0.0.5:8080');
    expect(problems(`${CLUSTER}  url: http://10.0.0.5:8080/pie\n`)).toEqual([expect.objectContaining({ path: 'cluster.url', message: expect.stringMatching(/no path/) })]);
    const remote = 'cluster:\n  servers: [nats://10.0.0.2:4222]\n  node: gpu-1\n  capacity: 4\n  url: http://127.0.0.1:8080\n';
    const served = 'server: { host: 0.0.0.0, token: t0k3n-long-enough }\n';
    expect(problems(remote + served)).toEqual([expect.objectContaining({ path: 'cluster.url', message: expect.stringMatching(/this machine only.*fix: the address other nodes use/) })]);
    // All on one machine: loopback is right.
    expect(parseConfig(`${CLUSTER}  url: http://127.0.0.1:8080\n`, { env: {} }).cluster?.url).toBe('http://127.0.0.1:8080');
  });
});
