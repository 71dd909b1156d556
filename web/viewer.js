// @ts-check
// The pie-stream viewer: one tile per camera with the enhanced picture, the original beside it
// (toggle or split slider), face boxes from detection events, and the camera's figures. Video comes
// over the WebSocket streams (JSMpeg: lowest latency) and falls back to HLS (hls.js) when a
// camera has no WebSocket stream or no WebSocket picture arrives. Plain JavaScript served as is (no
// build step); checked by tsc against the API's own types (web/tsconfig.json).

/** @typedef {import('../src/output/api.js').CameraInfo} CameraInfo */
/** @typedef {import('../src/output/api.js').CamerasResponse} CamerasResponse */
/** @typedef {import('../src/output/api.js').StatsResponse} StatsResponse */
/** @typedef {import('../src/output/api.js').CameraStats} CameraStats */
/** @typedef {import('../src/output/events.js').DetectionEvent} DetectionEvent */
/** @typedef {'raw' | 'enhanced'} Variant */
/** @typedef {'enhanced' | 'original' | 'split'} Mode */

const POLL_MS = 1000;
/** A box stays this long after its event unless a newer event of the camera replaces it. */
const BOX_TTL_MS = 1500;
/** No WebSocket picture this long while the camera is online → HLS, where the camera has it. */
const WS_GIVE_UP_MS = 8000;
/** No new picture this long while the camera is online → say the stream stalled. */
const STALL_MS = 4000;

const params = new URLSearchParams(location.search);
/** ?transport=hls or ?transport=ws forces one (for testing either path). */
const forced = params.get('transport');
/**
 * JSMpeg draws with Canvas 2D unless ?renderer=webgl: its WebGL path paints a white loading bar
 * that, in some browsers, stays on part of the picture; the 2D colour conversion costs a few ms a
 * frame at 640×360, and the pixels it draws can always be read back (snapshots, tests).
 */
const webgl = params.get('renderer') === 'webgl';
const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;

/** @param {string} url */
async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/** Why frames were dropped, in words: every reason of src/pipeline/dropCounter.ts (tsc checks none is missing). @type {Record<import('../src/pipeline/dropCounter.js').DropReason, string>} */
const DROP_REASONS = {
  fps: 'over the camera fps (sampled out)',
  'batch-replaced': 'replaced by a newer frame while batching',
  busy: 'enhancer busy (CPU too slow for this rate)',
  failed: 'inference failed (its worker died or timed out)',
  late: 'finished after a newer frame (dropped: the video never steps back)',
  encoder: 'encoder behind (its input had not drained)',
  'slow-client': 'a viewer too slow to keep up',
};
/** @param {number} x @param {number} [digits] */
const num = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** One variant's picture: JSMpeg on a canvas over WebSocket, or hls.js on a video element. */
class VideoLayer {
  /**
   * @param {HTMLElement} container
   * @param {string} camera
   * @param {Variant} variant
   * @param {{ websocket: boolean; hls: boolean }} available
   * @param {() => boolean} online
   */
  constructor(container, camera, variant, available, online) {
    this.container = container;
    this.camera = camera;
    this.variant = variant;
    this.available = available;
    this.online = online;
    /** @type {'ws' | 'hls' | null} */
    this.transport = null;
    this.frames = 0;
    this.lastFrameAt = 0;
    this.note = '';
    /** @type {JSMpegPlayer | null} */
    this.player = null;
    /** @type {HlsPlayer | null} */
    this.hls = null;
    /** @type {number | undefined} */
    this.fallbackTimer = undefined;
  }

  get started() { return this.transport !== null; }

  start() {
    if (this.started) return;
    const ws = this.available.websocket && forced !== 'hls' && typeof JSMpeg !== 'undefined';
    if (ws) this.startWs();
    else if (this.available.hls) this.startHls(this.available.websocket ? 'HLS (forced)' : 'HLS (no WebSocket stream)');
    else this.note = 'no stream';
  }

  startWs() {
    const canvas = document.createElement('canvas');
    this.container.replaceChildren(canvas);
    this.transport = 'ws';
    this.note = 'WebSocket (JSMpeg)';
    this.player = new JSMpeg.Player(`${wsBase}/ws/${encodeURIComponent(this.camera)}/${this.variant}`, {
      canvas, audio: false, autoplay: true, pauseWhenHidden: false, reconnectInterval: 2,
      disableGl: !webgl, preserveDrawingBuffer: webgl,
      onVideoDecode: () => this.decoded(),
    });
    if (this.available.hls && forced !== 'ws') {
      const check = () => {
        if (this.frames > 0 || this.transport !== 'ws') return;
        // A camera that is down sends nothing on any transport: wait for it rather than switch.
        if (!this.online()) { this.fallbackTimer = window.setTimeout(check, WS_GIVE_UP_MS); return; }
        this.startHls('HLS (no WebSocket picture)');
      };
      this.fallbackTimer = window.setTimeout(check, WS_GIVE_UP_MS);
    }
  }

  /** @param {string} note */
  startHls(note) {
    this.stopPlayers();
    this.frames = 0;
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    this.container.replaceChildren(video);
    this.transport = 'hls';
    this.note = note;
    const url = `/hls/${encodeURIComponent(this.camera)}/${this.variant}/index.m3u8`;
    if (typeof Hls !== 'undefined' && Hls.isSupported()) {
      const hls = new Hls({ liveSyncDurationCount: 2, maxLiveSyncPlaybackRate: 1.5 });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        // The playlist appears a few seconds after start and comes back after a restart: keep trying.
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else window.setTimeout(() => { if (this.hls === hls) hls.loadSource(url); }, 2000);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url; // Safari plays HLS itself
    } else {
      this.note = 'this browser plays neither stream';
      return;
    }
    const tick = () => {
      this.decoded();
      if (this.transport === 'hls') video.requestVideoFrameCallback(tick);
    };
    // Older browsers lack requestVideoFrameCallback; timeupdate is coarser but shows the video moves.
    if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(tick);
    else video.addEventListener('timeupdate', () => this.decoded());
    void video.play().catch(() => {});
  }

  /** A picture was shown. The first one reveals the layer (until then players draw a loading bar). */
  decoded() {
    if (this.frames === 0) this.container.classList.add('playing');
    this.frames++;
    this.lastFrameAt = performance.now();
  }

  stopPlayers() {
    window.clearTimeout(this.fallbackTimer);
    this.container.classList.remove('playing');
    this.player?.destroy();
    this.player = null;
    this.hls?.destroy();
    this.hls = null;
  }

  /** The element showing the picture. */
  get element() { return /** @type {HTMLCanvasElement | HTMLVideoElement | null} */ (this.container.firstElementChild); }
}

/** One camera's tile. */
class Tile {
  /** @param {CameraInfo} info */
  constructor(info) {
    const tpl = /** @type {HTMLTemplateElement} */ (document.getElementById('tile'));
    const root = /** @type {HTMLElement} */ (/** @type {Element} */ (tpl.content.firstElementChild).cloneNode(true));
    this.root = root;
    this.info = info;
    /** @type {Mode} */
    this.mode = 'enhanced';
    /** @type {{ event: DetectionEvent; at: number } | null} */
    this.boxes = null;
    root.dataset.camera = info.camera;
    root.dataset.mode = this.mode;
    this.q('.name').textContent = info.camera;
    const snap = /** @type {HTMLAnchorElement} */ (this.q('.snapshot'));
    snap.href = `/api/cameras/${encodeURIComponent(info.camera)}/snapshot.jpg`;
    this.view = this.q('.view');
    this.view.style.aspectRatio = `${info.width} / ${info.height}`;
    this.canvas = /** @type {HTMLCanvasElement} */ (this.q('canvas.boxes'));
    const has = (/** @type {Variant} */ v) => ({ websocket: info.streams.websocket.includes(v), hls: info.streams.hls.includes(v) });
    const online = () => this.info.state === 'online';
    /** @type {Record<Variant, VideoLayer>} */
    this.layers = {
      enhanced: new VideoLayer(this.q('.layer.enhanced'), info.camera, 'enhanced', has('enhanced'), online),
      raw: new VideoLayer(this.q('.layer.raw'), info.camera, 'raw', has('raw'), online),
    };
    const hasRaw = has('raw').websocket || has('raw').hls;
    const hasEnhanced = has('enhanced').websocket || has('enhanced').hls;
    for (const b of root.querySelectorAll('.modes button')) {
      const button = /** @type {HTMLButtonElement} */ (b);
      const mode = /** @type {Mode} */ (button.dataset.mode);
      const needs = mode === 'enhanced' ? hasEnhanced : mode === 'original' ? hasRaw : hasRaw && hasEnhanced;
      button.disabled = !needs;
      if (!needs) button.title = 'this camera has no such stream (see outputs in the config)';
      button.addEventListener('click', () => this.setMode(mode));
    }
    const slider = /** @type {HTMLInputElement} */ (this.q('.split'));
    slider.addEventListener('input', () => this.view.style.setProperty('--split', `${slider.value}%`));
    this.setMode(hasEnhanced ? 'enhanced' : 'original');
  }

  /** @param {string} selector */
  q(selector) { return /** @type {HTMLElement} */ (this.root.querySelector(selector)); }

  /** @param {Mode} mode */
  setMode(mode) {
    this.mode = mode;
    this.root.dataset.mode = mode;
    for (const b of this.root.querySelectorAll('.modes button')) {
      b.setAttribute('aria-pressed', String(/** @type {HTMLElement} */ (b).dataset.mode === mode));
    }
    // A player starts the first time its picture is shown and keeps running, so toggling back is instant.
    if (mode !== 'original') this.layers.enhanced.start();
    if (mode !== 'enhanced') this.layers.raw.start();
  }

  /** @param {CameraInfo} info @param {CameraStats | undefined} stats */
  update(info, stats) {
    this.info = info;
    const state = this.q('.state');
    state.textContent = info.state;
    state.className = `state ${info.state}`;
    const shown = this.mode === 'original' ? this.layers.raw : this.layers.enhanced;
    const now = performance.now();
    let down = '';
    let detail = '';
    if (info.state !== 'online') {
      // A camera that failed stays "down" while it retries, rather than flickering with each attempt.
      down = info.lastError || info.state !== 'restarting' ? 'Camera down' : 'Camera connecting…';
      const retry = info.state === 'restarting' ? ' · reconnecting…'
        : info.nextRetryAtMs !== null ? ` · retrying in ${Math.max(0, Math.round((info.nextRetryAtMs - Date.now()) / 1000))} s` : '';
      detail = `${info.lastError ? info.lastError.message : info.state}${retry}`;
    } else if (info.flow.stalled) {
      // The server's own judgement, in the words /health and /api/cameras use (src/output/flow.ts).
      down = 'Stream stalled';
      detail = info.flow.message ?? '';
    } else if (shown.started && shown.frames > 0 && now - shown.lastFrameAt > STALL_MS) {
      // The server delivers, but this browser's player got nothing: the connection, not the camera.
      down = 'Stream stalled';
      detail = `no picture in this browser for ${Math.round((now - shown.lastFrameAt) / 1000)} s while pie-stream delivers frames; reconnecting`;
    }
    this.root.classList.toggle('is-down', down !== '');
    this.q('.down-title').textContent = down;
    this.q('.down-detail').textContent = detail;
    const s = stats;
    this.q('.fps-in').textContent = s ? num(s.camera_fps) : num(info.fpsIn);
    this.q('.fps-out').textContent = s ? num(s.process_fps) : '–';
    const dropped = Object.values(info.dropped).reduce((a, b) => a + b, 0);
    // Say what was dropped and why: the biggest reason in words, every reason in the tooltip.
    const reasons = Object.entries(info.dropped).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const top = reasons[0];
    const why = top ? ` · ${DROP_REASONS[/** @type {import('../src/pipeline/dropCounter.js').DropReason} */ (top[0])] ?? top[0]}` : '';
    const drops = this.q('.drops');
    drops.textContent = (s ? `${dropped} (${num(s.skipped_fps)}/s)` : String(dropped)) + why;
    drops.title = reasons.map(([r, n]) => `${n} ${DROP_REASONS[/** @type {import('../src/pipeline/dropCounter.js').DropReason} */ (r)] ?? r}`).join('\n');
    this.q('.latency').textContent = s ? `${num(s.latency_ms.p50, 0)} ms (p95 ${num(s.latency_ms.p95, 0)})` : `${info.latencyMs} ms`;
    this.q('.provider').textContent = info.provider;
    // IR cameras are enhanced luminance-only (exact grey): say so, with the exposure target in use.
    this.q('.mode').textContent = `${info.mode === 'ir' ? 'IR (monochrome)' : 'colour'}${info.exposure === null ? '' : ` · exposure ${info.exposure.toFixed(2)}`}`;
    // How the camera is denoised; the noise model it measured goes in the tooltip, as a sensor's figures.
    const denoise = this.q('.denoise');
    denoise.textContent = info.denoise.mode + (info.denoise.strength === null ? '' : ` · strength ${info.denoise.strength}`);
    const n = info.noise;
    denoise.title = !n ? '' : [n.fullWell === null ? 'no shot noise measured' : `full well ${Math.round(n.fullWell)} e⁻`, n.readNoise === null ? '' : `read noise ${n.readNoise.toFixed(1)} e⁻`, `from ${n.from}`, `${n.frames} frames since a reset`, `${n.sceneCuts} scene cuts`, `${n.globalMoves} view moves`].filter(Boolean).join('\n');
    // Only the model's own date is its date; a file's is when it was copied or checked out.
    const day = info.model.date ? new Date(info.model.date).toISOString().slice(0, 10) : '';
    const date = info.model.dateSource === 'metadata' ? day : 'undated';
    const model = this.q('.model');
    model.textContent = `${info.model.name} · ${date}`;
    model.title = [info.model.path, info.model.trained ?? '', info.model.dateSource === 'file' && day ? `file modified ${day}` : ''].filter(Boolean).join('\n');
    this.q('.transport').textContent = [this.layers.enhanced, this.layers.raw].filter((l) => l.started).map((l) => `${l.variant}: ${l.note}`).join(' · ');
  }

  /** @param {DetectionEvent} event */
  onEvent(event) {
    this.boxes = { event, at: performance.now() };
  }

  /** Draws the boxes of the newest event (or clears them once it is old). */
  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(c.clientWidth * dpr), h = Math.round(c.clientHeight * dpr);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const g = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
    g.clearRect(0, 0, w, h);
    const b = this.boxes;
    if (!b || performance.now() - b.at > BOX_TTL_MS) return;
    const sx = w / this.info.width, sy = h / this.info.height;
    g.lineWidth = Math.max(2, 2 * dpr);
    g.strokeStyle = '#39ff7a';
    g.fillStyle = '#39ff7a';
    g.font = `${Math.round(12 * dpr)}px system-ui, sans-serif`;
    for (const f of b.event.faces) {
      g.strokeRect(f.box.x * sx, f.box.y * sy, f.box.width * sx, f.box.height * sy);
      g.fillText(`face ${Math.round(f.score * 100)}%`, f.box.x * sx, Math.max(12 * dpr, f.box.y * sy - 4 * dpr));
      for (const k of f.keypoints) g.fillRect(k.x * sx - 2 * dpr, k.y * sy - 2 * dpr, 4 * dpr, 4 * dpr);
    }
  }
}

/** @type {Map<string, Tile>} */
const tiles = new Map();

/** Detection events for every camera over one socket; reconnects after a drop. */
function listenForEvents() {
  const ws = new WebSocket(`${wsBase}/ws/events`);
  ws.onmessage = (m) => {
    try {
      const e = /** @type {DetectionEvent} */ (JSON.parse(String(m.data)));
      tiles.get(e.camera)?.onEvent(e);
    } catch { /* a malformed message is skipped */ }
  };
  ws.onclose = () => { window.setTimeout(listenForEvents, 2000); };
}

async function poll() {
  const summary = /** @type {HTMLElement} */ (document.getElementById('summary'));
  try {
    const [cams, stats] = /** @type {[CamerasResponse, StatsResponse]} */ (await Promise.all([getJson('/api/cameras'), getJson('/api/stats')]));
    const grid = /** @type {HTMLElement} */ (document.getElementById('grid'));
    for (const info of cams.cameras) {
      let t = tiles.get(info.camera);
      if (!t) {
        t = new Tile(info);
        tiles.set(info.camera, t);
        grid.append(t.root);
      }
      t.update(info, stats.cameras[info.camera]);
    }
    const online = cams.cameras.filter((c) => c.state === 'online').length;
    summary.textContent = `${online} of ${cams.cameras.length} cameras online · ${cams.enhancer}`;
  } catch (e) {
    summary.textContent = `cannot reach pie-stream (${e instanceof Error ? e.message : String(e)}); retrying`;
  }
}

function frame() {
  for (const t of tiles.values()) t.draw();
  requestAnimationFrame(frame);
}

void poll();
window.setInterval(() => { void poll(); }, POLL_MS);
listenForEvents();
requestAnimationFrame(frame);
