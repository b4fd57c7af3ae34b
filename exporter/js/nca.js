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

export const BUNDLE_SCHEMA = 'nca-studio/model-bundle';
export const BUNDLE_VERSION = 1;

export class NCA {
  static async load(gl, bundleUrl, options = {}) {
    const base = new URL(bundleUrl.endsWith('model.json') ? bundleUrl : bundleUrl.replace(/\/?$/, '/model.json'),
      document.baseURI);
    const model = await fetchOk(base, 'json');
    const sources = {};
    for (const [pass, file] of Object.entries(model.shaders)) {
      sources[pass] = await fetchOk(new URL(file, base), 'text');
    }
    return NCA.create(gl, model, sources, options);
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
    this.reset('seed');
  }

  // One pass that reads the state (optionally) and writes the next one, then swaps.
  _pass(name, uniforms, readsState = true) {
    const gl = this.gl;
    const prog = this._programs[name];
    gl.useProgram(prog.program);
    if (readsState) bindInputs(gl, prog, this._state.read);
    setUniforms(gl, prog, uniforms);
    bindOutput(gl, this._state.write);
    drawFullscreen(gl);
    this._state.swap();
  }

  step(n = 1) {
    const rot = [Math.cos(this.angle), Math.sin(this.angle)];
    for (let i = 0; i < n; i++) {
      this._pass('update', {
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
    for (const prog of Object.values(this._programs)) this.gl.deleteProgram(prog.program);
  }
}

function setUniforms(gl, prog, uniforms) {
  for (const [name, [kind, ...values]] of Object.entries(uniforms)) {
    const loc = prog.uniforms[name];
    if (loc) gl[`uniform${kind}`](loc, ...values);  // optimised-away uniforms have no location
  }
}

async function fetchOk(url, kind) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return kind === 'json' ? response.json() : response.text();
}
