// main.js: the studio page. Wires the engine (nca.js), the API (api.js) and the DOM (ui.js)
// and runs the animation loop.
//
// Test hooks: window.studio is the Studio below. Useful members: state, nca, ready (a model is
// running), readCanvas() -> {width, height, data: base64 RGBA, rows top-down}, waitSteps(n),
// jobEvents (every SSE event received: {kind, data}), lastRecording ({size, type, url}).

import { createContext, detectFloatFormat } from './gl.js';
import { NCA } from './nca.js';
import * as api from './api.js';
import * as ui from './ui.js';

const { $ } = ui;
const MAX_CANVAS = 1536;   // drawing-buffer pixels per side
const AUTO_MAX_SPF = 16;   // steps per frame the auto speed may reach
const SCENARIO = { grow: 240, regrow: 240, radius: 0.2, stepsPerFrame: 2 };

class Studio {
  constructor(canvas) {
    this.canvas = canvas;
    this.gl = null;
    this.nca = null;
    this.ready = false;
    this.models = [];
    this.jobEvents = [];
    this.lastRecording = null;
    this.state = {
      playing: true, speed: 'auto', spf: 1, grid: 256,
      fireRate: 0.5, angleDeg: 0, zoom: 1, pan: [0, 0], tiled: false, view: 'rgb', channel: 3,
      brush: { mode: 'erase', radius: 0.06 },
      modelId: null, modelName: null, recording: false, scenario: null,
      fps: 0, stepsPerSec: 0, watchedJob: null, error: null,
    };
    this._acc = 0;             // fractional steps for speeds below 1 step per frame
    this._frameMs = 16.7;
    this._lastFrame = 0;
    this._window = { t: performance.now(), steps: 0, frames: 0 };
    this._waiters = [];
    this._loadToken = 0;
    this._stopWatch = null;
    this._recorder = null;
  }

  // ---- start-up --------------------------------------------------------------------------
  init() {
    try {
      this.gl = createContext(this.canvas);
      detectFloatFormat(this.gl);  // throws when no float render target works
    } catch (err) {
      this.fail('This browser cannot run the studio',
        `${err.message}. NCA Studio needs WebGL2 with float render targets (EXT_color_buffer_float or `
        + 'EXT_color_buffer_half_float): use a recent Chrome, Edge, Firefox or Safari with hardware acceleration enabled.');
      return false;
    }
    this.canvas.addEventListener('webglcontextlost', (e) => {
      e.preventDefault();
      this.fail('The WebGL context was lost', 'Reload the page to start again.');
    });
    this.fitCanvas();
    new ResizeObserver(() => this.fitCanvas()).observe($('canvas-wrap'));
    requestAnimationFrame((t) => this.frame(t));
    return true;
  }

  fail(title, text) {
    this.state.error = `${title}: ${text}`;
    this.showOverlay(title, text, true);
    document.body.classList.add('no-gl');
    for (const b of document.querySelectorAll('.toolbar button')) b.disabled = true;
  }

  showOverlay(title, text = '', error = false) {
    $('overlay').hidden = false;
    $('overlay').classList.toggle('error', error);
    $('overlay-title').textContent = title;
    $('overlay-text').textContent = text;
  }

  hideOverlay() { $('overlay').hidden = true; }

  fitCanvas() {
    const rect = this.canvas.getBoundingClientRect();
    const size = Math.max(128, Math.min(MAX_CANVAS, Math.round(rect.width * (window.devicePixelRatio || 1))));
    if (this.canvas.width !== size) {
      this.canvas.width = this.canvas.height = size;
      if (this.nca) this.draw();
    }
  }

  // ---- models ----------------------------------------------------------------------------
  async refreshGallery() {
    this.models = await api.listModels();
    ui.renderGallery(this.models, this.state.modelId, {
      onSelect: (id) => this.loadModel(id).catch(() => {}),
      onDelete: (m) => this.deleteModel(m),
    });
    return this.models;
  }

  async loadModel(id) {
    if (!this.gl || this.state.error) return;
    const token = ++this._loadToken;
    const info = this.models.find((m) => m.id === id) || await api.getModel(id);
    this.showOverlay(`Loading ${info.name}`, 'compiling shaders');
    let next;
    try {
      next = await NCA.load(this.gl, info.bundle_url, { width: this.state.grid, height: this.state.grid });
    } catch (err) {
      if (token === this._loadToken) this.showOverlay(`Cannot run ${info.name}`, err.message, true);
      throw err;
    }
    if (token !== this._loadToken) { next.dispose(); return; }  // a newer click won
    if (this.nca) this.nca.dispose();
    this.nca = next;
    Object.assign(this.state, { modelId: id, modelName: info.name, fireRate: next.fireRate, view: 'rgb' });
    next.angle = (this.state.angleDeg * Math.PI) / 180;
    ui.setChannelOptions(next.channels);
    this.state.channel = Math.min(3, next.channels - 1);
    ui.markActive(id);
    $('now-playing').innerHTML = '';
    $('now-playing').append('Playing ', Object.assign(document.createElement('b'), { textContent: info.name }),
      ` \u00b7 ${next.channels} channels \u00b7 ${next.model.parameter_count} parameters`);
    history.replaceState(null, '', `#model=${encodeURIComponent(id)}`);
    this.hideOverlay();
    this.ready = true;
    this.sync();
    this.draw();
  }

  async deleteModel(m) {
    if (!confirm(`Delete the model "${m.name}"? This cannot be undone.`)) return;
    await api.deleteModel(m.id);
    await this.refreshGallery();
    if (m.id === this.state.modelId && this.models.length) await this.loadModel(this.models[0].id);
  }

  // ---- simulation controls ---------------------------------------------------------------
  togglePlay() { this.state.playing = !this.state.playing; this.sync(); }
  play() { this.state.playing = true; this.sync(); }
  pause() { this.state.playing = false; this.sync(); }

  stepOnce() {
    this.state.playing = false;
    if (this.nca) { this.nca.step(1); this.countSteps(1); this.draw(); }
    this.sync();
  }

  reset(mode = 'seed') {
    if (!this.nca) return;
    this.nca.reset(mode);
    this.draw();
    this.sync();
  }

  setSpeed(value) {
    this.state.speed = value === 'auto' ? 'auto' : String(Number(value));
    this.state.spf = value === 'auto' ? 1 : Number(value);
    this._acc = 0;
    this.sync();
  }

  setGrid(n) {
    n = Math.max(64, Math.min(1024, Math.round(n)));
    this.state.grid = n;
    if (this.nca) { this.nca.resize(n, n); this.draw(); }
    this.sync();
  }

  setFireRate(v) {
    this.state.fireRate = Math.max(0.01, Math.min(1, v));
    if (this.nca) this.nca.fireRate = this.state.fireRate;
    this.sync();
  }

  setAngle(deg) {
    this.state.angleDeg = Math.round(deg) % 360;
    if (this.nca) this.nca.angle = (this.state.angleDeg * Math.PI) / 180;
    this.sync();
  }

  // ---- view ------------------------------------------------------------------------------
  setZoom(z) { this.zoomAt(z, 0.5, 0.5); }

  // Zoom keeping the grid point under (u, v) (canvas fractions, y down) where it is.
  zoomAt(z, u = 0.5, v = 0.5) {
    const z0 = this.state.zoom;
    const z1 = Math.max(1, Math.min(16, z));
    const k = 1 / z0 - 1 / z1;
    this.state.pan = [this.state.pan[0] + (u - 0.5) * k, this.state.pan[1] + (v - 0.5) * k];
    this.state.zoom = z1;
    if (z1 === 1) this.state.pan = this.state.pan.map((p) => p - Math.floor(p));
    this.draw();
    this.sync();
  }

  // Pan by a fraction of the canvas (the texture wraps, so panning never runs out).
  panBy(du, dv) {
    this.state.pan = [this.state.pan[0] + du / this.state.zoom, this.state.pan[1] + dv / this.state.zoom]
      .map((p) => p - Math.floor(p));
    this.draw();
  }

  resetView() {
    Object.assign(this.state, { zoom: 1, pan: [0, 0], tiled: false });
    this.draw();
    this.sync();
  }

  setTiled(on) { this.state.tiled = !!on; this.draw(); this.sync(); }

  setView(value) {
    if (value === 'rgb') this.state.view = 'rgb';
    else { this.state.view = 'hidden'; this.state.channel = Number(value); }
    this.draw();
    this.sync();
  }

  // ---- brush -----------------------------------------------------------------------------
  setBrush({ mode, radius } = {}) {
    if (mode) this.state.brush.mode = mode === 'noise' ? 'noise' : 'erase';
    if (radius != null) this.state.brush.radius = Math.max(0.01, Math.min(0.4, Math.round(radius * 100) / 100));
    this.sync();
  }

  // Brush radius on screen, in CSS pixels, for a canvas `width` CSS pixels wide.
  brushScreenRadius(width) {
    return (this.state.brush.radius * width * this.state.zoom) / (this.state.tiled ? 2 : 1);
  }

  // Canvas position (client pixels) -> grid coordinates in [0, 1), as the display shader maps them.
  gridAt(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const s = this.state;
    let x = ((clientX - rect.left) / rect.width - 0.5) / s.zoom + 0.5 + s.pan[0];
    let y = ((clientY - rect.top) / rect.height - 0.5) / s.zoom + 0.5 + s.pan[1];
    if (s.tiled) { x *= 2; y *= 2; }
    return [x - Math.floor(x), y - Math.floor(y)];
  }

  brushAt(clientX, clientY) {
    if (!this.nca) return;
    const [x, y] = this.gridAt(clientX, clientY);
    this.nca.paint(x, y, this.state.brush.radius, this.state.brush.mode);
    this.draw();
  }

  // ---- animation loop --------------------------------------------------------------------
  frame(t) {
    requestAnimationFrame((tt) => this.frame(tt));
    if (this._lastFrame) this._frameMs = 0.9 * this._frameMs + 0.1 * Math.min(250, t - this._lastFrame);
    this._lastFrame = t;
    if (!this.nca) return;
    const s = this.state;
    if (s.playing) {
      let n;
      if (s.scenario) {
        n = SCENARIO.stepsPerFrame;
      } else if (s.speed === 'auto') {
        // Hold ~50 fps: add steps while frames come quickly, drop them when frames drag.
        if (this._frameMs < 19 && s.spf < AUTO_MAX_SPF) s.spf = Math.min(AUTO_MAX_SPF, s.spf * 1.08 + 0.02);
        else if (this._frameMs > 26 && s.spf > 1) s.spf = Math.max(1, s.spf * 0.85);
        n = Math.max(1, Math.round(s.spf));
      } else {
        this._acc += Number(s.speed);
        n = Math.floor(this._acc);
        this._acc -= n;
      }
      if (n > 0) { this.nca.step(n); this.countSteps(n); }
    }
    this.draw();
    this._window.frames += 1;
    const elapsed = t - this._window.t;
    if (elapsed >= 500) {
      s.stepsPerSec = (1000 * this._window.steps) / elapsed;
      s.fps = (1000 * this._window.frames) / elapsed;
      this._window = { t, steps: 0, frames: 0 };
      this.renderReadout();
    }
    this.resolveWaiters();
  }

  countSteps(n) { this._window.steps += n; }

  draw() {
    if (!this.nca) return;
    const s = this.state;
    this.nca.draw({ view: s.view, channel: s.channel, tiled: s.tiled, zoom: s.zoom, pan: s.pan });
  }

  renderReadout() {
    const s = this.state;
    $('ro-sps').textContent = s.stepsPerSec.toFixed(s.stepsPerSec < 10 ? 1 : 0);
    $('ro-fps').textContent = s.fps.toFixed(0);
    $('ro-spf').textContent = s.speed === 'auto' ? Math.max(1, Math.round(s.spf)) : s.speed;
    if (this.nca) {
      $('ro-grid').textContent = `${this.nca.width}\u00d7${this.nca.height}`;
      $('ro-format').textContent = this.nca.format;
      $('ro-step').textContent = this.nca.stepCount;
    }
  }

  sync() { ui.syncControls(this.state); this.renderReadout(); }

  // Resolves once the model has made `n` more steps (counted by stepCount).
  waitSteps(n) {
    const target = (this.nca ? this.nca.stepCount : 0) + n;
    return new Promise((resolve) => this._waiters.push({ target, resolve }));
  }

  resolveWaiters() {
    const count = this.nca ? this.nca.stepCount : 0;
    this._waiters = this._waiters.filter((w) => (count >= w.target ? (w.resolve(count), false) : true));
  }

  // ---- output: screenshot, canvas pixels, recording --------------------------------------
  readCanvas() {
    const gl = this.gl;
    this.draw();
    const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    const px = new Uint8Array(w * h * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const flipped = new Uint8Array(px.length);
    for (let y = 0; y < h; y++) flipped.set(px.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
    let bin = '';
    for (let i = 0; i < flipped.length; i += 0x8000) bin += String.fromCharCode(...flipped.subarray(i, i + 0x8000));
    return { width: w, height: h, data: btoa(bin) };
  }

  fileStem() {
    const name = (this.state.modelName || 'nca').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'nca';
    return `${name}-step${this.nca ? this.nca.stepCount : 0}`;
  }

  screenshot() {
    if (!this.nca) return;
    this.draw();
    this.canvas.toBlob((blob) => download(blob, `${this.fileStem()}.png`), 'image/png');
  }

  toggleRecording() { return this.state.recording ? this.stopRecording() : this.startRecording(); }

  startRecording() {
    if (this.state.recording || !this.nca) return false;
    if (!window.MediaRecorder || !this.canvas.captureStream) {
      alert('This browser cannot record the canvas (no MediaRecorder / captureStream).');
      return false;
    }
    const type = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm']
      .find((t) => MediaRecorder.isTypeSupported(t));
    if (!type) { alert('This browser cannot record WebM video.'); return false; }
    const stream = this.canvas.captureStream(30);
    const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 8e6 });
    const chunks = [];
    const started = performance.now();
    recorder.ondataavailable = (e) => { if (e.data && e.data.size) chunks.push(e.data); };
    this._recordingDone = new Promise((resolve) => {
      recorder.onstop = () => {
        stream.getTracks().forEach((track) => track.stop());
        const blob = new Blob(chunks, { type: 'video/webm' });
        const link = $('download-link');
        if (link.href) URL.revokeObjectURL(link.href);
        const url = URL.createObjectURL(blob);
        link.href = url;
        link.download = `${this.fileStem()}.webm`;
        link.textContent = `Download video (${(blob.size / 1e6).toFixed(1)} MB)`;
        link.hidden = false;
        this.lastRecording = { size: blob.size, type: blob.type, url, seconds: (performance.now() - started) / 1000 };
        resolve(this.lastRecording);
      };
    });
    recorder.start(250);
    this._recorder = recorder;
    this.state.recording = true;
    $('rec-badge').hidden = false;
    this._recTimer = setInterval(() => {
      const s = Math.floor((performance.now() - started) / 1000);
      $('rec-time').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }, 250);
    this.sync();
    return true;
  }

  stopRecording() {
    if (!this.state.recording) return this._recordingDone || Promise.resolve(null);
    this.draw();  // one last frame for the encoder
    this._recorder.stop();
    clearInterval(this._recTimer);
    $('rec-badge').hidden = true;
    this.state.recording = false;
    this.sync();
    return this._recordingDone;
  }

  // Reset, grow, erase the centre, regrow, all recorded.
  async runScenario() {
    if (this.state.scenario || !this.nca) return;
    const badge = $('scenario-badge');
    const phase = (text) => { this.state.scenario = text; badge.textContent = text; badge.hidden = false; this.sync(); };
    const ownRecording = !this.state.recording && this.startRecording();
    try {
      this.nca.reset('seed');
      this.play();
      phase(`growing ${SCENARIO.grow} steps`);
      await this.waitSteps(SCENARIO.grow);
      phase('erasing the centre');
      this.nca.paint(0.5, 0.5, SCENARIO.radius, 'erase');
      this.draw();
      phase(`repairing ${SCENARIO.regrow} steps`);
      await this.waitSteps(SCENARIO.regrow);
    } finally {
      this.state.scenario = null;
      badge.hidden = true;
      if (ownRecording) await this.stopRecording();
      this.sync();
    }
  }

  // ---- training --------------------------------------------------------------------------
  async startTraining(file, options) {
    const job = await api.createJob(file, options);
    this.watchJob(job, { loadWhenDone: true });
    this.refreshJobs();
    return job;
  }

  watchJob(job, { loadWhenDone = false } = {}) {
    if (this._stopWatch) this._stopWatch();
    this.state.watchedJob = job;
    ui.renderJobCard(job);
    $('job-card').scrollIntoView({ block: 'nearest' });
    this._stopWatch = api.watchJob(job.id, {
      any: (kind, data) => this.jobEvents.push({ kind, data }),
      job: (j) => {
        const was = this.state.watchedJob && this.state.watchedJob.status;
        this.state.watchedJob = j;
        ui.renderJobCard(j);
        if (j.status !== was) this.refreshJobs();
        if (j.status === 'finished' && j.model_id && was !== 'finished') {
          // The new model joins the gallery; it starts running if this page asked for it.
          this.refreshGallery()
            .then(() => (loadWhenDone ? this.loadModel(j.model_id) : null))
            .catch(() => {});
        }
      },
      progress: (p) => ui.renderProgress(p),
      preview: (p) => ui.setPreview(p.url),
    });
  }

  async refreshJobs() {
    const jobs = await api.listJobs();
    ui.renderJobList(jobs, {
      onOpen: (j) => {
        this.watchJob(j, { loadWhenDone: ['queued', 'running'].includes(j.status) });
        if (j.status === 'finished' && j.model_id) this.loadModel(j.model_id).catch(() => {});
      },
      onResume: async (j) => { this.watchJob(await api.resumeJob(j.id), { loadWhenDone: true }); this.refreshJobs(); },
    });
    return jobs;
  }
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- the training form -----------------------------------------------------------------
function bindTrainForm(studio) {
  const fileInput = $('file');
  const zone = $('dropzone');
  let file = null;
  const choose = (f) => {
    if (!f) return;
    file = f;
    const img = $('drop-preview');
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(f);
    img.hidden = false;
    $('drop-text').innerHTML = '';
    $('drop-text').append(Object.assign(document.createElement('small'), {
      textContent: `${f.name} \u00b7 ${(f.size / 1024).toFixed(0)} KB \u00b7 click to change` }));
    if (!$('job-name').value) $('job-name').value = f.name.replace(/\.[^.]+$/, '').slice(0, 64);
    $('btn-train').disabled = false;
    $('train-error').hidden = true;
  };
  fileInput.addEventListener('change', () => choose(fileInput.files[0]));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    choose(e.dataTransfer.files[0]);
  });
  $('train-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file) return;
    const button = $('btn-train');
    button.disabled = true;
    $('train-error').hidden = true;
    try {
      await studio.startTraining(file, {
        name: $('job-name').value.trim(),
        preset: $('preset').value,
        iterations: Number($('iterations').value) || null,
      });
    } catch (err) {
      $('train-error').textContent = err.message;
      $('train-error').hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $('btn-cancel').addEventListener('click', async () => {
    const job = studio.state.watchedJob;
    if (job) ui.renderJobCard(await api.cancelJob(job.id).catch(() => job));
  });
  $('btn-resume').addEventListener('click', async () => {
    const job = studio.state.watchedJob;
    if (job) { studio.watchJob(await api.resumeJob(job.id), { loadWhenDone: true }); studio.refreshJobs(); }
  });
}

// ---- boot ------------------------------------------------------------------------------
async function boot() {
  const studio = new Studio($('canvas'));
  window.studio = studio;
  ui.bindControls(studio);
  ui.bindKeyboard(studio);
  ui.bindPointer(studio.canvas, studio);
  bindTrainForm(studio);
  studio.sync();
  const ok = studio.init();
  try {
    await studio.refreshGallery();
  } catch (err) {
    studio.showOverlay('Cannot reach the studio server', err.message, true);
    return;
  }
  const jobs = await studio.refreshJobs().catch(() => []);
  // Show the job that is training (or next), else the newest one if a restart interrupted it.
  const active = jobs.find((j) => j.status === 'running') || jobs.find((j) => j.status === 'queued')
    || (jobs[0] && jobs[0].status === 'interrupted' ? jobs[0] : null);
  if (active) studio.watchJob(active, { loadWhenDone: true });
  if (!ok) return;
  const wanted = decodeURIComponent((location.hash.match(/model=([^&]+)/) || [])[1] || '');
  const first = studio.models.find((m) => m.id === wanted) || studio.models[0];
  if (first) await studio.loadModel(first.id).catch(() => {});
  else studio.showOverlay('No models yet', 'Train one from an image with the panel on the right.');
}

boot();
