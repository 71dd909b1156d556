import { describe, expect, it } from 'vitest';
import { evenSize, hlsFromRawArgs, mpeg1Kbps, mpegTsFromRawArgs } from '../../src/output/ffmpeg-output-args.js';

const IN = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

describe('output ffmpeg arguments', () => {
  it('builds live HLS from raw frames', () => {
    expect(hlsFromRawArgs({ width: 640, height: 360, fps: 15, playlist: '/o/cam/enhanced/index.m3u8', segmentSeconds: 2, listSize: 6 })).toEqual([
      ...IN, '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '640x360', '-framerate', '15', '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-crf', '23', '-pix_fmt', 'yuv420p',
      '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '6', '-hls_flags', 'delete_segments+independent_segments',
      '-hls_segment_filename', '/o/cam/enhanced/segment%06d.ts', '/o/cam/enhanced/index.m3u8']);
  });

  it('pads odd sizes and takes preset, crf and defaults', () => {
    expect(hlsFromRawArgs({ width: 161, height: 120, fps: 10, playlist: 'd/p.m3u8', preset: 'ultrafast', crf: 28, segmentPattern: 's%d.ts' })).toEqual([
      ...IN, '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '161x120', '-framerate', '10', '-i', 'pipe:0',
      '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-crf', '28', '-pix_fmt', 'yuv420p',
      '-g', '10', '-keyint_min', '10', '-sc_threshold', '0',
      '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments+independent_segments',
      '-hls_segment_filename', 'd/s%d.ts', 'd/p.m3u8']);
    expect(evenSize(161, 121)).toEqual({ width: 162, height: 122 });
  });

  it('builds MPEG-1 in MPEG-TS for JSMpeg', () => {
    expect(mpegTsFromRawArgs({ width: 1280, height: 720, fps: 15 })).toEqual([
      ...IN, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '1280x720', '-framerate', '15', '-i', 'pipe:0',
      '-f', 'mpegts', '-codec:v', 'mpeg1video', '-b:v', '1659k', '-bf', '0', '-g', '15',
      '-strict', 'unofficial', '-flush_packets', '1', 'pipe:1']);
    expect(mpegTsFromRawArgs({ width: 160, height: 120, fps: 10, kbps: 500 })).toContain('500k');
  });

  it('scales the MPEG-1 bitrate with size and rate, with a floor', () => {
    expect(mpeg1Kbps(640, 480, 30)).toBe(1106);
    expect(mpeg1Kbps(160, 120, 10)).toBe(128);
  });
});
