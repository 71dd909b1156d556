import { describe, expect, it } from 'vitest';
import { decodeToRawArgs, encodeFromRawArgs, filterRawArgs, inputScript } from '../../src/ingest/ffmpeg-args.js';
import { canonicalCredentials, redact, secretsOfUrl, urlCredentials } from '../../src/ingest/redact.js';
import { syntheticSceneGraph } from '../../src/ingest/synthetic.js';

describe('ffmpeg argument builder', () => {
  it('decodes a file to RGB24 on stdout', () => {
    expect(decodeToRawArgs({ input: 'a.mp4' })).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'a.mp4', '-map', '0:v:0', '-an', '-sn', '-dn',
      '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  });

  it('decodes an RTSP camera at a processing size and fps', () => {
    expect(decodeToRawArgs({ input: 'rtsp://h/s', rtspTransport: 'tcp', analyzeDurationUs: 500000, fps: 5, size: { width: 640, height: 360 }, filters: ['hqdn3d'] })).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-analyzeduration', '500000', '-i', 'rtsp://h/s', '-map', '0:v:0', '-an', '-sn', '-dn',
      '-vf', 'fps=5,scale=640:360,hqdn3d', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  });

  it('filters raw frames from stdin to stdout (a video denoiser on frames in memory)', () => {
    expect(filterRawArgs({ width: 320, height: 240, denoise: { filter: 'atadenoise', frames: 9 } })).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '320x240', '-framerate', '25', '-i', 'pipe:0',
      '-vf', 'atadenoise=s=9', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  });

  it('names a camera on stdin, options in the script, so no URL is on the command line', () => {
    const o = { input: "rtsp://admin:p%40ss'x@h/s", rtspTransport: 'udp' as const, analyzeDurationUs: 500000, fps: 5, inputOnStdin: true };
    expect(decodeToRawArgs(o)).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-analyzeduration', '500000',
      '-f', 'concat', '-safe', '0', '-protocol_whitelist', 'pipe,rtsp,rtsps,rtp,srtp,tcp,udp,tls,http,https,crypto', '-i', 'pipe:0',
      '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', 'fps=5', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    expect(inputScript(o)).toBe("ffconcat version 1.0\nfile 'rtsp://admin:p%40ss'\\''x@h/s'\noption rtsp_transport udp\noption analyzeduration 500000\n");
    expect(() => inputScript({ input: 'rtsp://h/s\nfile /etc/passwd' })).toThrow(/one line/);
  });

  it('loops a file like a camera, in real time', () => {
    const a = decodeToRawArgs({ input: 'clip.mp4', loop: true, realtime: true });
    expect(a.slice(4, 9)).toEqual(['-stream_loop', '-1', '-re', '-i', 'clip.mp4']);
  });

  it('encodes raw frames to H.264 with the source audio', () => {
    expect(encodeFromRawArgs({ width: 640, height: 360, fps: '30000/1001', output: 'o.mp4', audioFrom: 'in.mp4' })).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '640x360', '-framerate', '30000/1001', '-i', 'pipe:0',
      '-i', 'in.mp4', '-map', '0:v:0', '-map', '1:a?', '-c:a', 'copy',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', 'o.mp4']);
  });

  it('pads odd sizes for yuv420p and names the container of a temp file', () => {
    const a = encodeFromRawArgs({ width: 641, height: 360, fps: '25', output: 'o.mkv.partial', format: 'matroska' });
    expect(a).toContain('pad=ceil(iw/2)*2:ceil(ih/2)*2');
    expect(a.slice(-3)).toEqual(['-f', 'matroska', 'o.mkv.partial']);
    expect(a).not.toContain('-movflags');
  });

  it('masks credentials in URLs wherever they appear', () => {
    expect(redact('rtsp://admin:s3cret@10.0.0.5:554/live failed')).toBe('rtsp://***:***@10.0.0.5:554/live failed');
    expect(redact('[rtsp @ 0x1] rtsp://user@cam/x and http://a:b@c/')).toBe('[rtsp @ 0x1] rtsp://***@cam/x and http://***:***@c/');
    expect(redact('rtsp://cam/x')).toBe('rtsp://cam/x');
    // A literal '@' in a password: masked up to the authority's last '@', as ffmpeg splits it.
    expect(redact('rtsp://admin:p@ss@word@10.0.0.5/live and me@example.com')).toBe('rtsp://***:***@10.0.0.5/live and me@example.com');
  });

  it('splits credentials at the last @ and re-encodes them for ffmpeg', () => {
    expect(urlCredentials('rtsp://admin:p@ss:w0rd@h:554/s?x=@')).toEqual({ scheme: 'rtsp://', user: 'admin', password: 'p@ss:w0rd', rest: 'h:554/s?x=@' });
    expect(urlCredentials('rtsp://h/s@x')).toBeUndefined();
    expect(canonicalCredentials('rtsp://admin:p@ss:w0rd@h/s')).toBe('rtsp://admin:p%40ss%3Aw0rd@h/s');
    expect(canonicalCredentials('rtsp://admin:p%40ss@h/s')).toBe('rtsp://admin:p%40ss@h/s');
    expect(secretsOfUrl('rtsp://admin:p%40ssword@h/s').sort()).toEqual(['p%40ssword', 'p@ssword']);
  });

  it('builds the synthetic night scene graph', () => {
    expect(syntheticSceneGraph({ width: 320, height: 240, fps: 10, duration: 2, exposure: 0.1, noise: 4 }))
      .toBe('testsrc2=size=320x240:rate=10:duration=2,lutrgb=r=val*0.1:g=val*0.1:b=val*0.1,noise=alls=4:allf=t+u');
  });
});
