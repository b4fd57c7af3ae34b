// nca.js: the texture-NCA engine. Runs a model bundle written by `nca export` with WebGL2.
// Every model number lives in the bundle's generated GLSL; this file only schedules passes.
// It lives in the exporter package, under both of its users: the exporter inlines it into
// standalone pages and the web app serves it at /static/js/. It touches no DOM.
//
// Usage (ES module; the studio page and the standalone HTML export both use exactly this):
//
//   import { NCA } from './nca.js';
//   const gl = createContext(canvas);                        // from './gl.js'
//   const nca = await NCA.load(gl, '/bundles/pebbles/', {width: 256, height: 256});
//       // fetches <bundle>/model.json and the shader files it lists; options:
//       //   width, height (cells, default 128), format: 'RGBA32F' (default, falls back to
//       //   'RGBA16F' when float32 targets do not render) or 'RGBA16F' (force), seed (uint)
//   // or, with everything in memory (standalone HTML): NCA.create(gl, modelJson, {update, display, brush, seed}, options)
//   nca.step(n = 1);              // n NCA steps of every cell (each cell fires with probability fireRate)
//   nca.draw({view: 'rgb',        // 'rgb' (channels 0..2 + 0.5) or 'hidden' (one channel, false colour)
//             channel: 3,         // channel shown when view === 'hidden'
//             tiled: false,       // 2x2 repeat, to check that the texture tiles
//             zoom: 1, pan: [0, 0]});  // zoom >= 1 magnifies; pan in grid widths/heights
//   nca.paint(x, y, radius, mode);  // a disc: centre x, y as fractions of width and height (x right,
//       // y down), radius as a fraction of the shorter side; distances between cell centres,
//       // wrapping around (the grid is a torus); a cell is inside when its distance <= radius: the
//       // disc of training and `nca record` (nca/disc.py). mode 'erase' (to the seed) | 'noise'
//   nca.reset(mode = 'seed');     // 'seed' (all zeros, as in training) | 'noise'; stepCount -> 0
//   nca.resize(width, height);    // new grid size in cells; the state is reset to the seed
//   nca.setState(f32); nca.readState();  // Float32Array H*W*C, row-major [y][x][c], row 0 = top
//   nca.readCanvas();             // the canvas as last drawn: {width, height, data: Uint8Array RGBA},
//                                 // rows top-down like readState
//   nca.fireRate = 0.5; nca.angle = 0.0; nca.seed = 1;  // settable; angle in radians
//
// Painted fields (field.js; bundles of schema 2, see nca.supportsFields): one RGBA32F texel per cell,
// (k cos, k sin) of the cell's angle and perception scale k, its fire-rate factor, its graft mix; the
// global angle and fire rate above still apply on top of it. Presets are kept across resize(); strokes
// are not. The scale needs a bundle of schema 3 (nca.supportsScale); older ones ignore it in the Laplacian.
//   nca.setDirectionField({kind: 'vortex', x: 0.5, y: 0.5, angle: 0});  // uniform | radial | vortex | hyperbolic
//   nca.setSpeedField({kind: 'gradient', lo: 0.25, hi: 2});             // uniform | gradient (left to right)
//   nca.setScaleField({kind: 'gradient', lo: 0.67, hi: 1.5});           // uniform | gradient (left to right)
//   nca.paintField('direction' | 'speed' | 'graft' | 'scale', value, x, y, radius, soft = 0);
//       // direction: angle in radians; speed: fire-rate factor (0 freezes); graft: mix 0..1;
//       // scale: the texture `value` times as large
//   nca.clearGraftMix(); nca.setField(f32); nca.readField();  // Float32Array H*W*4, rows top-down
//   await nca.loadGraft('/bundles/rust/');  // a second model of the same channel count: painted
//   nca.graftWith(model, sources);          // cells (mix > 0) run it; nca.ungraft(); nca.graftName
//   nca.format      // 'RGBA32F' | 'RGBA16F' (read-only): what the state is stored in
//   nca.stepCount   // steps since the last reset / setState
//   nca.width, nca.height, nca.channels, nca.model (the parsed model.json)
//   nca.sync();     // block until the GPU has run every queued pass (honest timing, recording)
//   nca.dispose();
//
// Shader compile errors throw ShaderError (from gl.js) whose message holds the GLSL info log
// and the numbered source lines.

import {
  bindInputs, bindOutput, compileProgram, createPingPong, detectFloatFormat, drawFullscreen,
} from './gl.js';
import { applyDirection, applyScale, applySpeed, paintField, uniformField } from './field.js';

export const BUNDLE_SCHEMA = 'nca-studio/model-bundle';
export const BUNDLE_VERSION = 3;
const FIELD_FORMAT = (gl) => ({ name: 'RGBA32F', internalFormat: gl.RGBA32F, type: gl.FLOAT });  // only sampled

export class NCA {
  static async load(gl, bundleUrl, options = {}) {
    const base = modelUrl(bundleUrl);
    const model = await fetchOk(base, 'json');
    return NCA.create(gl, model, await fetchSources(base, model), options);
  }

  static create(gl, model, sources, options = {}) {
    return new NCA(gl, model, sources, options);
  }

  constructor(gl, model, sources, { width = 128, height = 128, format = 'RGBA32F', seed = 1 } = {}) {
    if (model.schema !== BUNDLE_SCHEMA || !(model.schema_version <= BUNDLE_VERSION)) {
      throw new Error(`not a model bundle this engine reads (schema ${model.schema} v${model.schema_version})`);
    }
    const maxBuffers = gl.getParameter(gl.MAX_DRAW_BUFFERS);
    if (model.targets > maxBuffers) {
      throw new Error(`model needs ${model.targets} render targets; this browser offers ${maxBuffers}`);
    }
    this.gl = gl;
    this.model = model;
    this.channels = model.channels;
    this.targets = model.targets;
    this.fireRate = model.fire_rate;
    this.angle = 0.0;
    this.seed = seed >>> 0;
    this.noiseAmplitude = 0.5;
    this.stepCount = 0;
    this._fmt = detectFloatFormat(gl, format);
    this._programs = {};
    for (const pass of ['update', 'display', 'brush', 'seed']) {
      if (!(pass in sources)) throw new Error(`bundle has no ${pass} shader`);
      this._programs[pass] = compileProgram(gl, sources[pass], `${model.name}/${pass}`);
    }
    this._strokes = 0;
    this._sources = sources;
    this.supportsFields = model.schema_version >= 2 && 'graft' in sources;
    this.supportsScale = this.supportsFields && model.schema_version >= 3;  // its update pass reads the scale
    this.graftName = null;
    this._presets = { direction: { kind: 'uniform' }, speed: { kind: 'uniform' }, scale: { kind: 'uniform' } };
    this.resize(width, height);
  }

  get format() { return this._fmt.name; }
  get width() { return this._state.width; }
  get height() { return this._state.height; }

  resize(width, height) {
    width = Math.max(1, Math.floor(width));
    height = Math.max(1, Math.floor(height));
    if (this._state) this._state.dispose();
    this._state = createPingPong(this.gl, width, height, this.targets, this._fmt);
    this._makeFieldTexture(width, height);
    this.reset('seed');
  }

  _makeFieldTexture(width, height) {
    const gl = this.gl;
    if (this._fieldTex) gl.deleteTexture(this._fieldTex);
    this._fieldTex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this._fieldTex);
    gl.texStorage2D(gl.TEXTURE_2D, 1, FIELD_FORMAT(gl).internalFormat, width, height);
    for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
    gl.bindTexture(gl.TEXTURE_2D, null);
    this.field = uniformField(width, height);
    applyDirection(this.field, width, height, this._presets.direction);
    applySpeed(this.field, width, height, this._presets.speed);
    applyScale(this.field, width, height, this._presets.scale);
    this._uploadField();
  }

  // Rows first..last of the CPU copy to the texture (all of it by default).
  _uploadField(first = 0, last = this.height - 1) {
    const gl = this.gl;
    const w = this.width;
    gl.bindTexture(gl.TEXTURE_2D, this._fieldTex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, first, w, last - first + 1, gl.RGBA, gl.FLOAT,
      this.field.subarray(first * w * 4, (last + 1) * w * 4));
    gl.bindTexture(gl.TEXTURE_2D, null);
  }

  setDirectionField(preset = {}) {
    this._presets.direction = { kind: 'uniform', ...preset };
    applyDirection(this.field, this.width, this.height, this._presets.direction);
    this._uploadField();
  }

  setSpeedField(preset = {}) {
    this._presets.speed = { kind: 'uniform', ...preset };
    applySpeed(this.field, this.width, this.height, this._presets.speed);
    this._uploadField();
  }

  setScaleField(preset = {}) {
    this._presets.scale = { kind: 'uniform', ...preset };
    applyScale(this.field, this.width, this.height, this._presets.scale);
    this._uploadField();
  }

  clearGraftMix() {
    for (let i = 3; i < this.field.length; i += 4) this.field[i] = 0;
    this._uploadField();
  }

  paintField(kind, value, x, y, radius, soft = 0) {
    const rows = paintField(this.field, this.width, this.height, kind, value, x, y, radius, soft);
    if (rows) this._uploadField(rows[0], rows[1]);
  }

  setField(data) {
    if (data.length !== this.field.length) throw new Error(`setField wants ${this.field.length} floats, got ${data.length}`);
    this.field.set(data);
    this._uploadField();
  }

  readField() { return this.field.slice(); }

  async loadGraft(bundleUrl) {
    const base = modelUrl(bundleUrl);
    const model = await fetchOk(base, 'json');
    return this.graftWith(model, await fetchSources(base, model));
  }

  // Compile this bundle's graft pass with the other model's network spliced in (model.json's `graft`
  // names the marker line and the function to rename); painted cells then run the other model.
  graftWith(model, sources) {
    if (!this.supportsFields || !(model.schema_version >= 2) || !('network' in sources)) {
      throw new Error('grafting needs both models exported by this version of nca export (bundle schema 2)');
    }
    if (model.channels !== this.channels) {
      throw new Error(`cannot graft ${model.name} (${model.channels} channels) onto ${this.model.name} (${this.channels} channels)`);
    }
    const { marker, function: fn } = this.model.graft;
    const network = sources.network.replaceAll(new RegExp(`\\b${fn}\\b`, 'g'), `${fn}_b`);
    const program = compileProgram(this.gl, this._sources.graft.replace(marker, network), `${this.model.name}+${model.name}/graft`);
    this.ungraft();
    this._programs.graft = program;
    this.graftName = model.name;
    return this;
  }

  ungraft() {
    if (this._programs.graft) this.gl.deleteProgram(this._programs.graft.program);
    delete this._programs.graft;
    this.graftName = null;
  }

  // One pass that reads the state (optionally) and writes the next one, then swaps.
  _pass(name, uniforms, readsState = true) {
    const gl = this.gl;
    const prog = this._programs[name];
    gl.useProgram(prog.program);
    if (readsState) bindInputs(gl, prog, this._state.read);
    if (prog.uniforms.u_field) {  // the field on the unit after the state's
      gl.activeTexture(gl.TEXTURE0 + this.targets);
      gl.bindTexture(gl.TEXTURE_2D, this._fieldTex);
      gl.uniform1i(prog.uniforms.u_field, this.targets);
    }
    setUniforms(gl, prog, uniforms);
    bindOutput(gl, this._state.write);
    drawFullscreen(gl);
    this._state.swap();
  }

  step(n = 1) {
    const rot = [Math.cos(this.angle), Math.sin(this.angle)];
    for (let i = 0; i < n; i++) {
      this._pass(this._programs.graft ? 'graft' : 'update', {
        u_rot: ['2f', ...rot],
        u_fire_rate: ['1f', this.fireRate],
        u_step: ['1ui', this.stepCount >>> 0],
        u_seed: ['1ui', this.seed >>> 0],
      });
      this.stepCount += 1;
    }
  }

  reset(mode = 'seed') {
    this._pass('seed', {
      u_mode: ['1i', mode === 'noise' ? 1 : 0],
      u_noise: ['1f', this.noiseAmplitude],
      u_seed: ['1ui', (this.seed + 0x9e3779b9 * ++this._strokes) >>> 0],
    }, false);
    this.stepCount = 0;
  }

  paint(x, y, radius, mode = 'erase') {
    if (mode !== 'erase' && mode !== 'noise') throw new Error(`unknown brush mode ${mode}`);
    this._pass('brush', {
      u_center: ['2f', x * this.width, y * this.height],
      u_radius: ['1f', radius * Math.min(this.width, this.height)],
      u_mode: ['1i', mode === 'noise' ? 1 : 0],
      u_noise: ['1f', this.noiseAmplitude],
      u_seed: ['1ui', (this.seed + 0x9e3779b9 * ++this._strokes) >>> 0],
    });
  }

  draw({ view = 'rgb', channel = 3, tiled = false, zoom = 1, pan = [0, 0] } = {}) {
    const gl = this.gl;
    const prog = this._programs.display;
    gl.useProgram(prog.program);
    bindInputs(gl, prog, this._state.read);
    bindOutput(gl, null);
    setUniforms(gl, prog, {
      u_canvas: ['2f', gl.drawingBufferWidth, gl.drawingBufferHeight],
      u_view: ['1i', view === 'hidden' ? 1 : 0],
      u_channel: ['1i', channel],
      u_tiled: ['1i', tiled ? 1 : 0],
      u_zoom: ['1f', zoom],
      u_pan: ['2f', pan[0], pan[1]],
    });
    drawFullscreen(gl);
  }

  // Float32Array of H*W*C, [y][x][c]; channel 4k+j goes to target k, component j.
  setState(data) {
    const { width: w, height: h } = this;
    const c = this.channels;
    if (data.length !== w * h * c) throw new Error(`setState wants ${w * h * c} floats (${h}x${w}x${c}), got ${data.length}`);
    const gl = this.gl;
    const plane = new Float32Array(w * h * 4);
    this._state.read.textures.forEach((tex, k) => {
      for (let i = 0; i < w * h; i++) {
        for (let j = 0; j < 4; j++) plane[4 * i + j] = data[i * c + 4 * k + j];
      }
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, w, h, gl.RGBA, gl.FLOAT, plane);
    });
    gl.bindTexture(gl.TEXTURE_2D, null);
    this.stepCount = 0;
  }

  readState() {
    const { width: w, height: h } = this;
    const c = this.channels;
    const gl = this.gl;
    const out = new Float32Array(w * h * c);
    const plane = new Float32Array(w * h * 4);
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, this._state.read.framebuffer);
    for (let k = 0; k < this.targets; k++) {
      gl.readBuffer(gl.COLOR_ATTACHMENT0 + k);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.FLOAT, plane);
      for (let i = 0; i < w * h; i++) {
        for (let j = 0; j < 4; j++) out[i * c + 4 * k + j] = plane[4 * i + j];
      }
    }
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, null);
    return out;
  }

  readCanvas() {
    const gl = this.gl;
    const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    const px = new Uint8Array(w * h * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const rows = new Uint8Array(px.length);  // readPixels starts at the bottom row
    for (let y = 0; y < h; y++) rows.set(px.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
    return { width: w, height: h, data: rows };
  }

  // gl.finish() may return early in some browsers; reading one texel back cannot.
  sync() {
    const gl = this.gl;
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, this._state.read.framebuffer);
    gl.readBuffer(gl.COLOR_ATTACHMENT0);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, new Float32Array(4));
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, null);
  }

  dispose() {
    this._state.dispose();
    this.gl.deleteTexture(this._fieldTex);
    for (const prog of Object.values(this._programs)) this.gl.deleteProgram(prog.program);
  }
}

function setUniforms(gl, prog, uniforms) {
  for (const [name, [kind, ...values]] of Object.entries(uniforms)) {
    const loc = prog.uniforms[name];
    if (loc) gl[`uniform${kind}`](loc, ...values);  // optimised-away uniforms have no location
  }
}

const modelUrl = (bundleUrl) => new URL(
  bundleUrl.endsWith('model.json') ? bundleUrl : bundleUrl.replace(/\/?$/, '/model.json'), document.baseURI);

// Every file model.json lists, by pass name (`network` is GLSL for grafting, not a program).
async function fetchSources(base, model) {
  const sources = {};
  for (const [pass, file] of Object.entries(model.shaders)) sources[pass] = await fetchOk(new URL(file, base), 'text');
  return sources;
}

async function fetchOk(url, kind) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return kind === 'json' ? response.json() : response.text();
}
