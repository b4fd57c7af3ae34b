// player.js: plays the current NCA on the canvas: the frame loop, the speed controller, the
// counters, the step waiters, and the simulation, view and brush settings. No DOM: it reports
// through the `changed` (settings moved), `readout` (new counters) and `notice` (one line for the
// user: what a setting just did) callbacks. The painted field (presets, field brushes, graft) is
// player.fields (fields.js).
//
//   const player = new Player(gl, state, {changed, readout, notice});
//   player.setModel(nca); player.start();
//   await player.waitSteps(100);            // resolves once the model has made 100 more steps

import { BRUSH_MODES, FIELD_BRUSHES, Fields } from './fields.js';

const AUTO_MAX_SPF = 16;    // steps per frame the auto speed may reach
const READOUT_MS = 500;     // how often the steps/s and fps counters are refreshed
const SLOW_SPS = 4;         // under this many steps/s a texture takes minutes to grow from the seed...
const SLOW_MS = 3000;       // ...for this long: state.slow suggests a smaller grid
const MIN_GRID = 64;
const GROW_STEPS = 300;     // about what a texture needs to grow from the seed

export class Player {
  constructor(gl, state, { changed = () => {}, readout = () => {}, notice = () => {} } = {}) {
    this.gl = gl;
    this.state = state;
    this.nca = null;
    this.ready = false;        // a model is running
    this.changed = changed;
    this.readout = readout;
    this.notice = notice;
    this.clock = new FrameClock();
    this.meter = new RateMeter();
    this.waiters = new StepWaiters();
    this.heldSpf = null;       // steps per frame a script holds, whatever the speed setting
    this._acc = 0;             // fractional steps for speeds below 1 step per frame
    this._slowSince = null;    // when the current run of slow readouts began
    this._frame = (t) => this.frame(t);
    this.fields = new Fields(state, { nca: () => this.nca, changed: () => this.changed(), notice: (t) => this.notice(t) });
  }

  start() { requestAnimationFrame(this._frame); }

  frame(t) {
    requestAnimationFrame(this._frame);
    this.clock.tick(t);
    if (!this.nca) return;
    if (this.state.playing) this.advance(this.stepsThisFrame());
    this.draw();
    this.updateCounters(t);
    this.waiters.resolve(this.nca.stepCount);
  }

  // A script's fixed count, else the auto controller's, else the chosen speed; state.spfUsed
  // is what the readout shows (a speed under 1 step per frame as its average).
  stepsThisFrame() {
    const s = this.state;
    if (this.heldSpf) return (s.spfUsed = this.heldSpf);
    if (s.speed === 'auto') {
      s.spf = autoSpeed(s.spf, this.clock.ms);
      return (s.spfUsed = Math.max(1, Math.round(s.spf)));
    }
    s.spfUsed = Number(s.speed);
    this._acc += Number(s.speed);
    const n = Math.floor(this._acc);
    this._acc -= n;
    return n;
  }

  advance(n) {
    if (n <= 0) return;
    this.nca.step(n);
    this.meter.count(n);
  }

  updateCounters(t) {
    const rates = this.meter.frame(t);
    if (!rates) return;
    Object.assign(this.state, rates);
    this.watchSlow(t, rates);
    this.readout();
  }

  // Frames and steps both slow for a few seconds while the texture is still growing: this
  // renderer takes minutes to grow one on this grid. state.slow = {stepsPerSec, grid, minutes,
  // suggest (a smaller grid)}, else null.
  watchSlow(t, { stepsPerSec, fps }) {
    const s = this.state;
    const slow = s.playing && !this.heldSpf && (s.speed === 'auto' || Number(s.speed) >= 1)
      && fps < 30 && stepsPerSec < SLOW_SPS && s.grid > MIN_GRID && this.nca.stepCount < 2 * GROW_STEPS;
    if (!slow) { this.clearSlow(); return; }
    if (this._slowSince == null) this._slowSince = t;
    if (t - this._slowSince < SLOW_MS) return;
    const minutes = Math.max(1, Math.round(GROW_STEPS / Math.max(stepsPerSec, 0.05) / 60));
    s.slow = { stepsPerSec, grid: s.grid, minutes, suggest: smallerGrid(s.grid, stepsPerSec) };
  }

  clearSlow() {
    this._slowSince = null;
    this.state.slow = null;
  }

  draw() {
    if (!this.nca) return;
    const s = this.state;
    this.nca.draw({ view: s.view, channel: s.channel, tiled: s.tiled, zoom: s.zoom, pan: s.pan });
  }

  // The canvas as shown now: {width, height, data: Uint8Array RGBA, rows top-down}.
  readCanvas() {
    this.draw();
    return this.nca.readCanvas();
  }

  // ---- the model -------------------------------------------------------------------------
  setModel(nca) {
    if (this.nca) this.nca.dispose();
    this.nca = nca;
    Object.assign(this.state, { fireRate: nca.fireRate, view: 'rgb', channel: Math.min(3, nca.channels - 1) });
    nca.angle = radians(this.state.angleDeg);
    this.fields.attach(nca);  // the field presets stay; the graft too, when the channel counts agree
    this.clearSlow();
    this.ready = true;
    this.changed();
    this.draw();
  }

  // Another version of the model that plays (a training job's newer weights): every setting stays
  // as the user left it; with `carry`, so do the cells and the step count, so the texture goes on
  // growing under the new weights instead of starting from the seed.
  swapModel(nca, { carry = false } = {}) {
    const old = this.nca;
    if (!old) { this.setModel(nca); return; }
    if (carry && old.channels === nca.channels && old.width === nca.width && old.height === nca.height) {
      try {
        const steps = old.stepCount;
        nca.setState(old.readState());
        nca.stepCount = steps;
      } catch { /* a state this browser cannot read back: the new version starts from the seed */ }
    }
    this.nca = nca;
    this.fields.attach(nca, { carry: carry ? old : null });  // with the cells, the painted field carries on
    old.dispose();
    const s = this.state;
    if (s.channel >= nca.channels) Object.assign(s, { view: 'rgb', channel: Math.min(3, nca.channels - 1) });
    nca.fireRate = s.fireRate;
    nca.angle = radians(s.angleDeg);
    this.ready = true;
    this.changed();
    this.draw();
  }

  // ---- step waiters ----------------------------------------------------------------------
  // Resolves once the model has made `n` more steps (counted by stepCount).
  waitSteps(n) { return this.waitForStep((this.nca ? this.nca.stepCount : 0) + n); }

  waitForStep(step) { return this.waiters.add(step); }

  holdSpeed(spf) { this.heldSpf = spf; }

  // ---- simulation ------------------------------------------------------------------------
  togglePlay() { this.state.playing = !this.state.playing; this.changed(); }
  play() { this.state.playing = true; this.changed(); }
  pause() { this.state.playing = false; this.changed(); }

  stepOnce() {
    this.state.playing = false;
    if (this.nca) { this.advance(1); this.draw(); }
    this.changed();
  }

  reset(mode = 'seed') {
    if (!this.nca) return;
    this.nca.reset(mode);
    this.draw();
    this.changed();
  }

  setSpeed(value) {
    this.state.speed = value === 'auto' ? 'auto' : String(Number(value));
    this.state.spf = value === 'auto' ? 1 : Number(value);
    this._acc = 0;
    this.changed();
  }

  setGrid(n) {
    n = clamp(Math.round(n), MIN_GRID, 1024);
    this.state.grid = n;
    this.clearSlow();
    if (this.nca) {
      this.nca.resize(n, n);  // a new grid starts from the seed: say so
      this.draw();
      this.notice(`Grid ${n}\u00d7${n}: the texture restarts from the seed`);
    }
    this.changed();
  }

  setFireRate(v) {
    this.state.fireRate = clamp(v, 0.01, 1);
    if (this.nca) this.nca.fireRate = this.state.fireRate;
    this.changed();
  }

  setAngle(deg) {
    this.state.angleDeg = Math.round(deg) % 360;
    if (this.nca) this.nca.angle = radians(this.state.angleDeg);
    this.changed();
  }

  // ---- view ------------------------------------------------------------------------------
  setZoom(z) { this.zoomAt(z, 0.5, 0.5); }

  // Zoom keeping the grid point under (u, v) (canvas fractions, y down) where it is.
  zoomAt(z, u = 0.5, v = 0.5) {
    const s = this.state;
    const z1 = clamp(z, 1, 16);
    const k = 1 / s.zoom - 1 / z1;
    s.pan = [s.pan[0] + (u - 0.5) * k, s.pan[1] + (v - 0.5) * k];
    s.zoom = z1;
    if (z1 === 1) s.pan = s.pan.map(wrap);
    this.draw();
    this.changed();
  }

  // Pan by a fraction of the canvas (the texture wraps, so panning never runs out).
  panBy(du, dv) {
    const s = this.state;
    s.pan = [s.pan[0] + du / s.zoom, s.pan[1] + dv / s.zoom].map(wrap);
    this.draw();
  }

  resetView() {
    Object.assign(this.state, { zoom: 1, pan: [0, 0], tiled: false });
    this.draw();
    this.changed();
  }

  setTiled(on) { this.state.tiled = !!on; this.draw(); this.changed(); }

  setView(value) {
    if (value === 'rgb') this.state.view = 'rgb';
    else { this.state.view = 'hidden'; this.state.channel = Number(value); }
    this.draw();
    this.changed();
  }

  // ---- brush -----------------------------------------------------------------------------
  setBrush({ mode, radius } = {}) {
    const brush = this.state.brush;
    if (mode) {
      const why = this.fields.unavailable(mode);  // a field brush this model or this moment cannot use
      if (why) this.notice(why);
      else brush.mode = BRUSH_MODES.includes(mode) ? mode : 'erase';
    }
    if (radius != null) brush.radius = clamp(Math.round(radius * 100) / 100, 0.01, 0.4);
    this.changed();
  }

  // Brush radius on screen, in CSS pixels, for a canvas `width` CSS pixels wide.
  brushScreenRadius(width) {
    return (this.state.brush.radius * width * this.state.zoom) / (this.state.tiled ? 2 : 1);
  }

  // Canvas position (u, v: fractions of the canvas, y down) -> grid coordinates in [0, 1),
  // as the display shader maps them.
  gridAt(u, v) {
    const s = this.state;
    let x = (u - 0.5) / s.zoom + 0.5 + s.pan[0];
    let y = (v - 0.5) / s.zoom + 0.5 + s.pan[1];
    if (s.tiled) { x *= 2; y *= 2; }
    return [wrap(x), wrap(y)];
  }

  // A dab at canvas point (u, v); (du, dv): the stroke's motion there, in canvas fractions (the
  // direction brush paints its angle; a dab without motion paints no direction).
  brushAt(u, v, du = 0, dv = 0) {
    if (!this.nca) return;
    const [x, y] = this.gridAt(u, v);
    const { mode, radius } = this.state.brush;
    if (mode in FIELD_BRUSHES) {
      const k = (this.state.tiled ? 2 : 1) / this.state.zoom;  // canvas fractions -> grid fractions
      this.fields.paint(mode, x, y, radius, du * k * this.nca.width, dv * k * this.nca.height);
    } else {
      this.nca.paint(x, y, radius, mode);
    }
    this.draw();
  }
}

// Hold ~50 fps: add steps while frames come quickly, drop them when frames drag.
function autoSpeed(spf, frameMs) {
  if (frameMs < 19 && spf < AUTO_MAX_SPF) return Math.min(AUTO_MAX_SPF, spf * 1.08 + 0.02);
  if (frameMs > 26 && spf > 1) return Math.max(1, spf * 0.85);
  return spf;
}

// The largest smaller grid expected to run twice SLOW_SPS (a step costs about the same per cell).
function smallerGrid(n, stepsPerSec) {
  let g = n / 2;
  while (g > MIN_GRID && stepsPerSec * (n / g) ** 2 < 2 * SLOW_SPS) g /= 2;
  return Math.max(MIN_GRID, g);
}

// A smoothed frame time: one slow frame should not halve the speed.
class FrameClock {
  constructor() { this.ms = 16.7; this.last = 0; }

  tick(t) {
    if (this.last) this.ms = 0.9 * this.ms + 0.1 * Math.min(250, t - this.last);
    this.last = t;
  }
}

// Steps and frames counted over a window; frame(t) returns the rates when a window closes.
class RateMeter {
  constructor() { this.window = { t: performance.now(), steps: 0, frames: 0 }; }

  count(steps) { this.window.steps += steps; }

  frame(t) {
    const w = this.window;
    w.frames += 1;
    const elapsed = t - w.t;
    if (elapsed < READOUT_MS) return null;
    this.window = { t, steps: 0, frames: 0 };
    return { stepsPerSec: (1000 * w.steps) / elapsed, fps: (1000 * w.frames) / elapsed };
  }
}

// Promises that resolve once the step count reaches their target.
class StepWaiters {
  constructor() { this.pending = []; }

  add(target) { return new Promise((resolve) => this.pending.push({ target, resolve })); }

  resolve(count) {
    this.pending = this.pending.filter((w) => (count >= w.target ? (w.resolve(count), false) : true));
  }
}

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
const wrap = (p) => p - Math.floor(p);
const radians = (deg) => (deg * Math.PI) / 180;
