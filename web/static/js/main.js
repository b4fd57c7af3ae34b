// main.js: boots the studio page: creates the engine's context, wires the modules, starts.
//   player.js    the frame loop, speed, counters, step waiters, simulation / view / brush settings
//   gallery.js   the models: list, load into the player, delete
//   recorder.js  videos (an MP4 the server renders, a WebM of the canvas) and screenshots
//   scenario.js  the growth-and-repair script (damage specs of damage.js)
//   address.js   the address bar as settings: #model=id&grid=128&speed=4&zoom=2&angle=90&fire=0.8
//                (&field=vortex&fx=0.3&fy=0.6&speedfield=gradient&scalefield=gradient: the field's presets)
//   fields.js    the painted field (player.fields): presets, field brushes, the graft model
//   fieldpanel.js  the Field panel's DOM
//   training.js  the training panel: upload, job progress over SSE, recent jobs
//   ui.js        every DOM read and write; controls call the `studio` actions below
//
// Test hooks: window.studio is those actions plus state, nca, ready (a model is running),
// models, readCanvas() -> {width, height, data: base64 RGBA, rows top-down}, waitSteps(n),
// jobEvents (every SSE event received: {kind, data}), lastRecording (the latest video, from the
// server or the browser: {size, type, url, seconds, filename}; null while a new one is made).

import { DEFAULTS, formatAddress, parseAddress } from './address.js';
import { createContext, detectFloatFormat } from './gl.js';
import { Gallery } from './gallery.js';
import { bindFieldPanel, syncFieldPanel } from './fieldpanel.js';
import { Player } from './player.js';
import { Recorder } from './recorder.js';
import { runScenario } from './scenario.js';
import { Training } from './training.js';
import * as ui from './ui.js';

const CANVAS_PX = { min: 128, max: 1536 };  // drawing-buffer pixels per side

// Everything the page shows; each module writes its own part, ui.syncControls renders it.
const state = {
  playing: true, speed: 'auto', spf: 1, grid: 256,
  fireRate: 0.5, angleDeg: 0, zoom: 1, pan: [0, 0], tiled: false, view: 'rgb', channel: 3,
  brush: { mode: 'erase', radius: 0.06 },
  modelId: null, modelName: null, recording: false, scenario: null,
  videoFormat: 'mp4', rendering: null,  // rendering: what the server is rendering now, else null
  fps: 0, stepsPerSec: 0, spfUsed: null, slow: null, watchedJob: null, error: null,
  // What plays: bundleUrl (a gallery model's or a live one's); live = {jobId, iteration, url} while
  // a training job's weights play (followLive: the page swaps in each new version).
  bundleUrl: null, live: null, followLive: true,
};

// A WebGL2 context that renders to float targets: {gl}, or {gl: null, error}.
function createEngineContext(canvas) {
  try {
    const gl = createContext(canvas);
    detectFloatFormat(gl);  // throws when no float render target works
    return { gl };
  } catch (error) {
    return { gl: null, error };
  }
}

function fail(title, text) {
  state.error = `${title}: ${text}`;
  ui.showFatal(title, text);
}

const methods = (obj, names) => Object.fromEntries(names.map((name) => [name, obj[name].bind(obj)]));

function toBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

async function boot() {
  const canvas = ui.canvasElement();
  const { gl, error } = createEngineContext(canvas);
  // The address follows the settings once a model plays (before, it still names the model to load).
  const address = () => {
    const f = state.field;
    const centred = f.direction !== 'uniform';  // a uniform field has no centre to name
    return formatAddress(
      { model: state.modelId, grid: state.grid, speed: state.speed, zoom: state.zoom, angle: state.angleDeg, fire: state.fireRate,
        field: f.direction, fx: centred ? f.fx : null, fy: centred ? f.fy : null, speedfield: f.speed,
        scalefield: f.scale },
      { fire: player.nca ? player.nca.model.fire_rate : null });
  };
  const changed = () => {
    ui.syncControls(state);
    syncFieldPanel(player.fields, gallery.models);
    ui.renderReadout(state, player.nca);
    if (state.modelId) ui.writeAddress(address());
  };
  const player = new Player(gl, state, {
    changed, readout: () => ui.renderReadout(state, player.nca), notice: ui.showNotice,
  });
  const gallery = new Gallery(gl, state, player);
  const fileStem = () => {
    const name = (state.modelName || 'nca').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'nca';
    return `${name}-step${player.nca ? player.nca.stepCount : 0}`;
  };
  const recorder = new Recorder(canvas, state, { live: () => !!player.nca, draw: () => player.draw(), fileStem, changed });
  const training = new Training(state, gallery);
  gallery.picked = () => training.setFollow(false);  // a model the user chose stays on the canvas

  const studio = {
    state,
    get nca() { return player.nca; },
    get ready() { return player.ready; },
    get models() { return gallery.models; },
    get lastRecording() { return recorder.last; },
    jobEvents: training.jobEvents,
    ...methods(player, ['play', 'pause', 'togglePlay', 'stepOnce', 'reset', 'setSpeed', 'setGrid', 'setFireRate',
      'setAngle', 'setZoom', 'zoomAt', 'panBy', 'resetView', 'setTiled', 'setView', 'setBrush', 'brushAt',
      'brushScreenRadius', 'waitSteps', 'draw']),
    // The painted field (fields.js): presets by name, the centre in grid fractions, a graft by model id.
    setDirectionField: (kind) => player.fields.setDirection(kind),
    setSpeedField: (kind) => player.fields.setSpeed(kind),
    setScaleField: (kind) => player.fields.setScale(kind),
    setFieldCentre: (x, y) => player.fields.setCentre(x, y),
    resetField: () => player.fields.reset(),
    setGraft: (id) => player.fields.setGraft(id ? gallery.models.find((m) => m.id === id) || null : null),
    readCanvas() {
      const shot = player.readCanvas();
      return { width: shot.width, height: shot.height, data: toBase64(shot.data) };
    },
    loadModel: (id) => gallery.load(id),
    refreshGallery: () => gallery.refresh(),
    deleteModel: (m) => gallery.remove(m),
    screenshot: () => recorder.screenshot(),
    toggleRecording: () => recorder.toggle(),
    startRecording: () => recorder.start(),
    stopRecording: () => recorder.stop(),
    runScenario: () => runScenario({ state, player, recorder, changed }),
    setVideoFormat: (format) => { state.videoFormat = format === 'webm' ? 'webm' : 'mp4'; changed(); },
    renderVideo: (options) => recorder.render(options),
    startTraining: (file, options) => training.train(file, options),
    watchJob: (job, options) => training.watch(job, options),
    refreshJobs: () => training.refresh(),
  };
  window.studio = studio;

  ui.bindControls(studio);
  ui.bindKeyboard(studio);
  ui.bindPointer(canvas, studio);
  bindFieldPanel(studio, player.fields);
  training.bind();
  // A link's settings (address.js): the grid before the first model loads, the fire rate once it plays.
  const follow = (settings) => {
    if (settings.grid != null && settings.grid !== state.grid) player.setGrid(settings.grid);
    if (settings.speed != null && settings.speed !== state.speed) player.setSpeed(settings.speed);
    if (settings.zoom != null && settings.zoom !== state.zoom) player.setZoom(settings.zoom);
    if (settings.angle != null && settings.angle !== state.angleDeg) player.setAngle(settings.angle);
    const field = { direction: settings.field, fx: settings.fx, fy: settings.fy, speed: settings.speedfield,
      scale: settings.scalefield };
    if (Object.values(field).some((v) => v != null)) player.fields.setPresets(field);
  };
  const linked = parseAddress(ui.readAddress());
  follow(linked);
  // A link pasted into this tab: its model and settings; what it leaves out is at the default.
  ui.onAddressChange(async (hash) => {
    const settings = { ...DEFAULTS, ...parseAddress(hash) };
    follow(settings);
    if (settings.model && settings.model !== state.modelId) await gallery.load(settings.model).catch(() => {});
    if (player.nca) player.setFireRate(settings.fire ?? player.nca.model.fire_rate);
    changed();  // the address settles on what plays (a model that does not exist: the one still playing)
  });
  changed();
  if (gl) {
    ui.onContextLost(canvas, () => fail('The WebGL context was lost', 'Reload the page to start again.'));
    ui.keepCanvasFitted(canvas, { ...CANVAS_PX, onResize: () => player.draw() });
    player.start();
  }

  try {
    await gallery.refresh();
  } catch (err) {
    ui.showOverlay('Cannot reach the studio server', err.message, true);
    return;
  }
  if (!gl) {  // after the gallery: the rest of the page works, and the message says why the canvas does not
    fail('This browser cannot run the studio',
      `${error.message}. NCA Studio needs WebGL2 with float render targets (EXT_color_buffer_float or `
      + 'EXT_color_buffer_half_float): use a recent Chrome, Edge, Firefox or Safari with hardware acceleration enabled.');
  }
  await training.followActive();
  if (!gl) return;
  const first = gallery.first();
  if (first) await gallery.load(first.id).catch(() => {});
  else ui.showOverlay('No models yet', 'Train one from an image under Train a texture.');
  if (player.nca && linked.fire != null) player.setFireRate(linked.fire);
}

boot();
