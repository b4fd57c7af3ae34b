// ui.js: all the DOM work of the studio: controls, pointer (brush, zoom, pan), keyboard, overlay,
// readout, gallery (and its downloads), recording badge and download, the address bar, training form and job rendering. Other modules
// call these functions; controls call back the `studio` actions that main.js binds. No WebGL here.

import { parseAddress } from './address.js';

const $ = (id) => document.getElementById(id);

export function formatSeconds(s) {
  if (s == null || !Number.isFinite(s)) return '-';
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const formatCount = (n) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10000 ? 0 : 1)}k` : String(n));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) node.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// ---- page: overlay, fatal errors, canvas size, dialogs ---------------------------------
export const canvasElement = () => $('canvas');

export function showOverlay(title, text = '', error = false) {
  $('overlay').hidden = false;
  $('overlay').classList.toggle('error', error);
  $('overlay-title').textContent = title;
  $('overlay-text').textContent = text;
}

export function hideOverlay() { $('overlay').hidden = true; }

// One line on the canvas for a few seconds: what a setting just did.
let noticeTimer = 0;
export function showNotice(text, ms = 4000) {
  const notice = $('notice');
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, ms);
}

// The canvas back in view (a phone, after a tap on a card below it): with the top bar and the
// playing model's name when both fit, else the canvas alone. Nothing moves when it is in view.
export function revealCanvas() {
  const wrap = $('canvas-wrap');
  const box = wrap.getBoundingClientRect();
  if (box.top >= 0 && box.bottom <= window.innerHeight) return;
  const behavior = window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth';
  const bar = document.querySelector('.topbar').getBoundingClientRect();
  if (box.bottom - bar.top <= window.innerHeight) window.scrollTo({ top: window.scrollY + bar.top, behavior });
  else wrap.scrollIntoView({ block: 'start', behavior });
}

// The studio cannot run here: say why, and disable what needs the engine.
export function showFatal(title, text) {
  showOverlay(title, text, true);
  document.body.classList.add('no-gl');
  for (const b of document.querySelectorAll('.toolbar button')) b.disabled = true;
}

// Drawing-buffer pixels follow the canvas's size on screen (device pixels, within [min, max]).
export function keepCanvasFitted(canvas, { min, max, onResize }) {
  const fit = () => {
    const rect = canvas.getBoundingClientRect();
    const size = Math.max(min, Math.min(max, Math.round(rect.width * (window.devicePixelRatio || 1))));
    if (canvas.width !== size) {
      canvas.width = canvas.height = size;
      onResize();
    }
  };
  fit();
  new ResizeObserver(fit).observe($('canvas-wrap'));
}

export function onContextLost(canvas, handler) {
  canvas.addEventListener('webglcontextlost', (e) => {
    e.preventDefault();
    handler();
  });
}

export const warn = (text) => alert(text);
export const ask = (text) => confirm(text);

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- controls --------------------------------------------------------------------------
export function bindControls(studio) {
  $('btn-play').addEventListener('click', () => studio.togglePlay());
  $('btn-step').addEventListener('click', () => studio.stepOnce());
  $('btn-reset').addEventListener('click', () => studio.reset('seed'));
  $('btn-noise').addEventListener('click', () => studio.reset('noise'));
  $('btn-screenshot').addEventListener('click', () => studio.screenshot());
  $('btn-record').addEventListener('click', () => studio.toggleRecording());
  $('btn-scenario').addEventListener('click', () => studio.runScenario());
  $('video-format').addEventListener('change', (e) => studio.setVideoFormat(e.target.value));
  $('speed').addEventListener('change', (e) => studio.setSpeed(e.target.value));
  $('grid-size').addEventListener('change', (e) => studio.setGrid(Number(e.target.value)));
  $('fire-rate').addEventListener('input', (e) => studio.setFireRate(Number(e.target.value)));
  $('angle').addEventListener('input', (e) => studio.setAngle(Number(e.target.value)));
  $('zoom').addEventListener('input', (e) => studio.setZoom(Number(e.target.value)));
  $('view').addEventListener('change', (e) => studio.setView(e.target.value));
  $('tiled').addEventListener('change', (e) => studio.setTiled(e.target.checked));
  $('btn-view-reset').addEventListener('click', () => studio.resetView());
  $('radius').addEventListener('input', (e) => studio.setBrush({ radius: Number(e.target.value) }));
  for (const radio of document.querySelectorAll('input[name="brush-mode"]')) {
    radio.addEventListener('change', (e) => studio.setBrush({ mode: e.target.value }));
  }
  $('btn-smaller-grid').addEventListener('click', (e) => studio.setGrid(Number(e.currentTarget.dataset.grid)));
  // A card chosen (not one of its own buttons): the model plays on the canvas, so show the canvas.
  $('gallery').addEventListener('click', (e) => {
    const card = e.target.closest('.card');
    const control = e.target.closest('a, button, input, select, [role="button"]');
    if (card && (!control || control === card)) revealCanvas();
  });
  $('help-toggle').addEventListener('click', () => {
    const help = $('help');
    help.hidden = !help.hidden;
    $('help-toggle').setAttribute('aria-expanded', String(!help.hidden));
  });
}

// Reflect the studio's state in the controls (after keyboard shortcuts, model loads, ...).
export function syncControls(s) {
  const play = $('btn-play');
  play.querySelector('span').className = s.playing ? 'i-pause' : 'i-play';
  play.querySelector('.label').textContent = s.playing ? 'Pause' : 'Play';
  $('speed').value = s.speed;
  $('grid-size').value = String(s.grid);
  $('fire-rate').value = s.fireRate;
  $('fire-rate-out').textContent = s.fireRate.toFixed(2);
  $('angle').value = s.angleDeg;
  $('angle-out').textContent = `${s.angleDeg}\u00b0`;
  $('zoom').value = s.zoom;
  $('zoom-out').textContent = `${s.zoom.toFixed(s.zoom < 10 ? 2 : 1)}\u00d7`;
  $('tiled').checked = s.tiled;
  $('view').value = s.view === 'rgb' ? 'rgb' : String(s.channel);
  $('radius').value = s.brush.radius;
  $('radius-out').textContent = s.brush.radius.toFixed(2);
  for (const radio of document.querySelectorAll('input[name="brush-mode"]')) radio.checked = radio.value === s.brush.mode;
  const rec = $('btn-record');
  rec.textContent = s.recording ? 'Stop recording' : 'Record';
  rec.classList.toggle('recording', s.recording);
  if (s.rendering) rec.textContent = 'Rendering\u2026';
  rec.disabled = !!s.rendering;
  $('btn-scenario').disabled = !!s.scenario || !!s.rendering;
  $('video-format').value = s.videoFormat;
  $('video-format').disabled = s.recording || !!s.scenario || !!s.rendering;
}

export function renderReadout(s, nca) {
  $('ro-sps').textContent = s.stepsPerSec.toFixed(s.stepsPerSec < 10 ? 1 : 0);
  $('ro-fps').textContent = s.fps.toFixed(0);
  // The steps each frame really runs (a script's fixed count too); paused, what the speed will run.
  const chosen = s.speed === 'auto' ? Math.max(1, Math.round(s.spf)) : s.speed;
  $('ro-spf').textContent = s.playing && s.spfUsed != null ? s.spfUsed : chosen;
  renderSlowHint(s.slow);
  if (nca) {
    $('ro-grid').textContent = `${nca.width}\u00d7${nca.height}`;
    $('ro-format').textContent = nca.format;
    $('ro-step').textContent = nca.stepCount;
  }
}

// Why the canvas stays grey: this renderer is too slow for the grid; a smaller one to try.
function renderSlowHint(slow) {
  $('slow-hint').hidden = !slow;
  if (!slow) return;
  const { stepsPerSec: sps, grid: n, minutes, suggest: g } = slow;
  $('slow-hint-text').textContent = `Slow here: ${sps.toFixed(1)} steps/s on ${n}\u00d7${n}, `
    + `so a texture takes ~${minutes} min to grow. A smaller grid runs faster:`;
  const button = $('btn-smaller-grid');
  button.dataset.grid = String(g);
  button.textContent = `Use ${g}\u00d7${g}`;
  button.hidden = false;
}

export function setChannelOptions(channels) {
  const select = $('view');
  select.replaceChildren(el('option', { value: 'rgb' }, 'RGB'));
  for (let c = 0; c < channels; c++) {
    select.append(el('option', { value: String(c) }, `channel ${c}${c < 3 ? ' (' + 'RGB'[c] + ')' : ' (hidden)'}`));
  }
}

// ---- pointer: brush on left-drag or one finger, pan on right/shift-drag or two fingers, zoom
// on the wheel or a pinch ----------------------------------------------------------------
const TOUCH_HOLD_MS = 90;  // a finger paints once no second one has joined it for this long

export function bindPointer(canvas, studio) {
  const cursor = $('brush-cursor');
  const touches = new Map();  // pointerId -> [x, y]: the fingers on the canvas
  let stroke = null;          // the brush: {id, x, y, pending: [[x, y], ...] while a finger waits, timer}
  let pan = null;             // a right / middle / shift drag: {id, x, y}
  let pinch = null;           // two fingers: {ids, cx, cy, d} (their centre and distance)
  let afterPinch = false;     // a finger left over from a pinch paints nothing

  const at = (x, y) => {
    const rect = canvas.getBoundingClientRect();
    return [(x - rect.left) / rect.width, (y - rect.top) / rect.height];
  };
  const placeCursor = (e) => {
    if (e.pointerType === 'touch') { cursor.hidden = true; return; }  // a finger hides what it paints
    const rect = canvas.getBoundingClientRect();
    const d = 2 * studio.brushScreenRadius(rect.width);
    cursor.style.width = cursor.style.height = `${d}px`;
    cursor.style.left = `${e.clientX - rect.left}px`;
    cursor.style.top = `${e.clientY - rect.top}px`;
    cursor.classList.toggle('noise', studio.state.brush.mode === 'noise');
    cursor.dataset.mode = studio.state.brush.mode;
    cursor.hidden = false;
  };

  // Dabs along the segment, a quarter of the brush diameter apart, so fast strokes stay solid; each
  // is told the segment's motion (the direction brush paints its angle). Placing a centre: its end only.
  const brushLine = (x0, y0, x1, y1) => {
    const rect = canvas.getBoundingClientRect();
    const spacing = Math.max(1, studio.brushScreenRadius(rect.width) * 0.5);
    const n = studio.state.brush.mode === 'centre' ? 1 : Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / spacing));
    const du = (x1 - x0) / rect.width, dv = (y1 - y0) / rect.height;
    for (let i = 1; i <= n; i++) studio.brushAt(...at(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n), du, dv);
  };
  // A finger's stroke so far, painted once it is clearly one finger (or lifts: a tap is one disc).
  const commit = () => {
    if (!stroke || !stroke.pending) return;
    clearTimeout(stroke.timer);
    const points = stroke.pending;
    stroke.pending = null;
    studio.brushAt(...at(...points[0]));
    for (let i = 1; i < points.length; i++) brushLine(...points[i - 1], ...points[i]);
  };
  const moveStroke = (x, y) => {
    if (stroke.pending) stroke.pending.push([x, y]);
    else brushLine(stroke.x, stroke.y, x, y);
    stroke.x = x;
    stroke.y = y;
  };
  const endStroke = (paint) => {
    if (paint) commit();
    clearTimeout(stroke.timer);
    stroke = null;
  };

  const span = (ids) => {
    const [[ax, ay], [bx, by]] = ids.map((id) => touches.get(id));
    return { cx: (ax + bx) / 2, cy: (ay + by) / 2, d: Math.hypot(bx - ax, by - ay) };
  };
  // A second finger: the stroke stops (unpainted if it was still waiting) and the two pinch.
  const startPinch = () => {
    if (stroke) endStroke(false);
    const ids = [...touches.keys()].slice(0, 2);
    pinch = { ids, ...span(ids) };
  };
  // The grid point under the fingers' old centre follows it, and the zoom scales about it.
  const movePinch = () => {
    const now = span(pinch.ids);
    const rect = canvas.getBoundingClientRect();
    studio.panBy((pinch.cx - now.cx) / rect.width, (pinch.cy - now.cy) / rect.height);
    if (pinch.d > 8 && now.d > 8) studio.zoomAt(studio.state.zoom * (now.d / pinch.d), ...at(now.cx, now.cy));
    Object.assign(pinch, now);
  };

  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    const x = e.clientX, y = e.clientY;
    if (e.pointerType === 'touch') {
      touches.set(e.pointerId, [x, y]);
      cursor.hidden = true;
      if (touches.size === 2) startPinch();
      else if (touches.size === 1 && !afterPinch) {
        stroke = { id: e.pointerId, x, y, pending: [[x, y]] };
        stroke.timer = setTimeout(commit, TOUCH_HOLD_MS);
      }
      return;
    }
    if (stroke || pan) return;  // one mouse or pen drag at a time
    if (e.button === 2 || e.button === 1 || e.shiftKey) {
      pan = { id: e.pointerId, x, y };
      canvas.classList.add('panning');
    } else {
      stroke = { id: e.pointerId, x, y, pending: null };
      studio.brushAt(...at(x, y));
    }
  });
  canvas.addEventListener('pointermove', (e) => {
    placeCursor(e);
    const x = e.clientX, y = e.clientY;
    if (touches.has(e.pointerId)) touches.set(e.pointerId, [x, y]);
    if (pinch && pinch.ids.includes(e.pointerId)) movePinch();
    else if (stroke && stroke.id === e.pointerId) moveStroke(x, y);
    else if (pan && pan.id === e.pointerId) {
      const rect = canvas.getBoundingClientRect();
      studio.panBy((pan.x - x) / rect.width, (pan.y - y) / rect.height);
      pan.x = x;
      pan.y = y;
    }
  });
  // pointercancel (the browser took the pointer over): stop, and paint nothing that still waited.
  const end = (e, cancelled) => {
    if (stroke && stroke.id === e.pointerId) endStroke(!cancelled);
    if (pan && pan.id === e.pointerId) {
      pan = null;
      canvas.classList.remove('panning');
    }
    if (touches.delete(e.pointerId)) {
      if (pinch && pinch.ids.includes(e.pointerId)) { pinch = null; afterPinch = true; }
      if (!touches.size) afterPinch = false;
    }
  };
  canvas.addEventListener('pointerup', (e) => end(e, false));
  canvas.addEventListener('pointercancel', (e) => end(e, true));
  canvas.addEventListener('pointerleave', () => { cursor.hidden = true; });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const factor = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
    studio.zoomAt(studio.state.zoom * factor, ...at(e.clientX, e.clientY));
    placeCursor(e);
  }, { passive: false });
}

// ---- keyboard --------------------------------------------------------------------------
export function bindKeyboard(studio) {
  window.addEventListener('keydown', (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName)) && t.type !== 'range' && t.type !== 'checkbox' && t.type !== 'radio') return;
    const actions = {
      ' ': () => studio.togglePlay(),
      s: () => studio.stepOnce(),
      r: () => studio.reset('seed'),
      R: () => studio.reset('noise'),
      '[': () => studio.setBrush({ radius: studio.state.brush.radius / 1.25 }),
      ']': () => studio.setBrush({ radius: studio.state.brush.radius * 1.25 }),
      e: () => studio.setBrush({ mode: 'erase' }),
      n: () => studio.setBrush({ mode: 'noise' }),
      d: () => studio.setBrush({ mode: 'direction' }),
      ',': () => studio.setBrush({ mode: 'slow' }),
      f: () => studio.setBrush({ mode: 'freeze' }),
      '.': () => studio.setBrush({ mode: 'fast' }),
      g: () => studio.setBrush({ mode: 'graft' }),
      u: () => studio.setBrush({ mode: 'ungraft' }),
      c: () => studio.setBrush({ mode: 'centre' }),
      '=': () => studio.setBrush({ mode: 'larger' }),
      '-': () => studio.setBrush({ mode: 'smaller' }),
      t: () => studio.setTiled(!studio.state.tiled),
      0: () => studio.resetView(),
      p: () => studio.screenshot(),
      v: () => studio.toggleRecording(),
    };
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  });
}

// ---- recording and the scenario --------------------------------------------------------
export function showRecording(on) { $('rec-badge').hidden = !on; }

export function setRecordingTime(seconds) {
  const s = Math.floor(seconds);
  $('rec-time').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function offerDownload(url, filename, bytes) {
  const link = $('download-link');
  link.href = url;
  link.download = filename;
  const kind = (filename.match(/\.(\w+)$/) || [])[1] || 'video';
  link.textContent = `Download ${kind.toUpperCase()} (${(bytes / 1e6).toFixed(1)} MB)`;
  link.hidden = false;
}

// A new video is on its way: the last one's link goes (it would offer the old file).
export function hideDownload() {
  const link = $('download-link');
  link.hidden = true;
  link.removeAttribute('href');
}

// The server's render in its badge ('rendering growth & repair on the server 0:12'); null hides it.
export function showRendering(text, seconds = 0) {
  const badge = $('render-badge');
  badge.hidden = text == null;
  if (text == null) return;
  const s = Math.floor(seconds);
  badge.textContent = `${text} ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// Save the file at `url` under the name the server gives it (Content-Disposition).
export function downloadUrl(url) {
  const a = Object.assign(document.createElement('a'), { href: url, download: '' });
  document.body.append(a);
  a.click();
  a.remove();
}

// The scenario's phase in its badge; null hides it.
export function showScenario(text) {
  const badge = $('scenario-badge');
  badge.hidden = text == null;
  if (text != null) badge.textContent = text;
}

// ---- gallery ---------------------------------------------------------------------------
export function renderGallery(models, activeId, { onSelect, onDelete }) {
  const gallery = $('gallery');
  gallery.replaceChildren(...models.map((m) => {
    const card = el('button', {
      type: 'button', class: `card${m.id === activeId ? ' active' : ''}`, role: 'listitem',
      'data-model-id': m.id, title: `${m.name}\n${m.channels} channels, ${m.hidden} hidden, ${m.parameter_count} parameters`,
      onclick: () => onSelect(m.id),
    },
    el('img', { src: m.thumbnail_url, alt: '', loading: 'lazy' }),
    el('span', { class: 'name' }, m.name),
    el('span', { class: 'meta' }, `${m.channels} ch \u00b7 ${formatCount(m.parameter_count)} params`),
    el('span', { class: `badge${m.bundled ? ' bundled' : ''}` }, m.bundled ? 'example' : 'trained'),
    m.verdict ? el('span', { class: `verdict ${m.verdict}`, title: verdictTitle(m) }, VERDICT_LABELS[m.verdict]) : null,
    takeaway(m),
    graftsWith(m, models));
    if (!m.bundled) {
      card.append(el('span', {
        class: 'delete', role: 'button', tabindex: '0', title: 'Delete this model', 'aria-label': `Delete ${m.name}`,
        onclick: (e) => { e.stopPropagation(); onDelete(m); },
      }, '\u00d7'));
    }
    return card;
  }));
  $('gallery-count').textContent = models.length ? String(models.length) : '';
  $('gallery-empty').hidden = models.length > 0;
  gallery.dispatchEvent(new CustomEvent('rendered'));  // fieldpanel.js: the graft menu follows the gallery
}

// "grafts with rust, pebbles": the models the server marks good to graft with this one (grafts.json).
function graftsWith(m, models) {
  const ids = m.grafts_with || [];
  if (!ids.length) return null;
  const names = ids.map((id) => (models.find((o) => o.id === id) || { name: id }).name).join(', ');
  return el('span', { class: 'grafts', title: `grafts well with ${names}: choose one under Field \u203a Graft` },
    `grafts with ${names}`);
}

// A card's downloads: the bundle as a zip, the checkpoint, the standalone page (URLs from the API).
const TAKEAWAY = [
  ['bundle', 'zip', 'Download the model bundle (model.json, shaders, thumbnail, checkpoint) as a zip'],
  ['checkpoint', 'pt', 'Download the PyTorch checkpoint (for nca record, nca export, Python)'],
  ['standalone', 'html', 'Download one HTML file that runs this model with no server'],
];

function takeaway(m) {
  const items = TAKEAWAY.filter(([kind]) => m.downloads && m.downloads[kind]);
  if (!items.length) return null;
  const take = (e, url) => { e.preventDefault(); e.stopPropagation(); downloadUrl(url); };
  return el('span', { class: 'take' }, el('span', { 'aria-hidden': 'true' }, '\u2913'),
    ...items.map(([kind, label, title]) => el('span', {
      class: 'take-item', role: 'button', tabindex: '0', 'data-download': kind, title,
      'aria-label': `${title}: ${m.name}`,
      onclick: (e) => take(e, m.downloads[kind]),
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') take(e, m.downloads[kind]); },
    }, label)));
}

// What the quality check (nca/verdict.py) found, in a word on the card.
const VERDICT_LABELS = { good: 'good', drifts: 'drifts', poor: 'poor', failed: 'failed' };

function verdictTitle(m) {
  const reasons = (m.quality && m.quality.reasons) || [];
  const text = {
    good: 'holds its texture: close to the style, features of its size, steady over thousands of steps',
    drifts: 'starts right, then changes over thousands of steps',
    poor: 'does not look like its style image',
    failed: 'learned nothing: the texture is flat, black, or no closer to the style than a flat image',
  }[m.verdict];
  return reasons.length ? `${text} (${reasons.join('; ')})` : text;
}

export function markActive(id) {
  for (const card of document.querySelectorAll('#gallery .card')) {
    card.classList.toggle('active', card.dataset.modelId === id);
  }
}

// A model starts playing: its channels in the view menu, its card, its name (main.js writes the address).
export function showModel(info, nca) {
  setChannelOptions(nca.channels);
  markActive(info.id);
  $('now-playing').replaceChildren('Playing ', el('b', {}, info.name),
    ` \u00b7 ${nca.channels} channels \u00b7 ${nca.model.parameter_count} parameters`);
}

// ---- the address: #model=...&grid=...&zoom=... (address.js parses and formats it) ----------
export const readAddress = () => location.hash;

export function modelInAddress() { return parseAddress(location.hash).model || ''; }

// Browsers throttle frequent history updates (a slider drag): write at most this often, the latest last.
const ADDRESS_MS = 250;
let addressPending = null;
let addressTimer = 0;
let addressWritten = -Infinity;
let addressSeen = location.hash;  // the address as this page last wrote or read it

// `hash` into the address bar: no reload, no history entry (replaceState fires no hashchange).
export function writeAddress(hash) {
  addressPending = hash;
  if (addressTimer) return;
  const wait = ADDRESS_MS - (performance.now() - addressWritten);
  if (wait <= 0) flushAddress();
  else addressTimer = setTimeout(flushAddress, wait);
}

function flushAddress() {
  addressTimer = 0;
  // A link pasted since the last write: its hashchange is still queued, and the link wins.
  if (location.hash !== addressSeen) return;
  addressWritten = performance.now();
  if (addressPending && addressPending !== location.hash) history.replaceState(history.state, '', addressPending);
  addressSeen = location.hash;  // as the browser spells it
}

// A link typed or pasted into this tab: handler(hash). A write still waiting is dropped: the new link wins.
export function onAddressChange(handler) {
  window.addEventListener('hashchange', (event) => {
    clearTimeout(addressTimer);
    addressTimer = 0;
    addressPending = null;
    addressSeen = location.hash;
    handler(new URL(event.newURL).hash);
  });
}

// ---- training form and jobs ------------------------------------------------------------
// onSubmit(file, {name, preset, iterations}) returns a promise; its error is shown under the form.
export function bindTrainForm({ onSubmit, onCancel, onResume }) {
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
    $('drop-text').replaceChildren(el('small', {}, `${f.name} \u00b7 ${(f.size / 1024).toFixed(0)} KB \u00b7 click to change`));
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
      await onSubmit(file, {
        name: $('job-name').value.trim(),
        preset: $('preset').value,
        init: $('init').value,
        iterations: Number($('iterations').value) || null,
      });
    } catch (err) {
      $('train-error').textContent = err.message;
      $('train-error').hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $('btn-cancel').addEventListener('click', onCancel);
  $('btn-resume').addEventListener('click', onResume);
}

// The job card for a job the page starts following, scrolled into view.
export function showJobCard(job) {
  renderJobCard(job);
  $('job-card').scrollIntoView({ block: 'nearest' });
}

export function renderJobCard(job) {
  const card = $('job-card');
  if (!job) { card.hidden = true; return; }
  card.hidden = false;
  card.dataset.jobId = job.id;
  card.dataset.status = job.status;
  $('job-title').textContent = job.name;
  const status = $('job-status');
  const label = job.status === 'running' && job.phase ? PHASE_LABELS[job.phase] || job.phase
    : job.status === 'queued' && job.queue_position ? `queued #${job.queue_position}` : job.status;
  const learnedNothing = jobState(job) !== job.status;
  const again = job.status === 'running' && job.start > 1 && job.phase !== 'retrying'
    ? ` \u00b7 ${['second', 'third', 'fourth'][job.start - 2] || `${job.start}th`} try` : '';
  // A run that ended at a probe whose texture held (nca train --stop-below): its bar stops short of the end.
  const held = job.status === 'finished' && job.stopped_early ? ' \u00b7 stopped early: the texture held' : '';
  status.textContent = learnedNothing ? 'failed: learned nothing' : label + again + held;
  status.className = `status ${jobState(job)}${job.phase === 'cancelling' ? ' cancelling' : ''}`;
  status.dataset.phase = job.phase || '';
  renderProgress(job);
  if (job.style_url && $('job-style').getAttribute('src') !== job.style_url) $('job-style').src = job.style_url;
  if (job.preview_url) setPreview(job.preview_url);
  const err = $('job-error');
  err.hidden = !job.error;
  err.textContent = job.error || '';
  $('btn-cancel').hidden = !['queued', 'running'].includes(job.status);
  $('btn-resume').hidden = !job.resumable;
}

// What a running job is doing, in the words of its status badge (web/jobs/model.py PHASES).
const PHASE_LABELS = {
  starting: 'starting', loading: 'loading VGG', compiling: 'compiling', training: 'training', probing: 'probing',
  evaluating: 'evaluating', retrying: 'trying again', exporting: 'exporting', cancelling: 'cancelling\u2026',
};
// The phases the remaining time counts, as its breakdown names them (web/jobs/remaining.py).
const PART_LABELS = { training: 'training', probing: 'probes', evaluating: 'closing check', exporting: 'export' };

// A finished job whose model learned nothing is shown as failed, not as a success.
function jobState(job) {
  return job.status === 'finished' && job.verdict === 'failed' ? 'failed' : job.status;
}

export function renderProgress(p) {
  const total = p.iterations || 0;
  $('job-iter').textContent = p.iteration ?? 0;
  $('job-total').textContent = total || '-';
  $('job-loss').textContent = p.loss != null ? Number(p.loss).toPrecision(4) : '-';
  $('job-rate').textContent = p.it_per_s != null ? Number(p.it_per_s).toFixed(2) : '-';
  const over = p.status === 'finished' && p.stopped_early;  // a job's record; training's progress messages have no status
  $('job-bar').style.width = over ? '100%' : total ? `${Math.min(100, (100 * (p.iteration || 0)) / total)}%` : '0%';
}

// The estimated time left: `parts` ({phase: seconds}, in order) less `elapsed` seconds since they
// were estimated, spent from the first phase on. Past the estimate it says so rather than "0s".
export function renderRemaining(parts, elapsed = 0, active = true) {
  const entries = Object.entries(parts || {});
  const left = [];
  let spend = Math.max(0, elapsed);
  for (const [name, seconds] of entries) {
    const rest = Math.max(0, seconds - spend);
    spend = Math.max(0, spend - seconds);
    if (rest > 0.5) left.push([name, rest]);
  }
  const total = left.reduce((sum, [, s]) => sum + s, 0);
  $('job-eta').textContent = !active ? '-' : !entries.length ? 'estimating\u2026'
    : total >= 1 ? `~${formatSeconds(total)}` : 'any moment';
  $('job-phases').textContent = active && left.length && total >= 1
    ? left.map(([name, s]) => `${PART_LABELS[name] || name} ~${formatSeconds(s)}`).join(' \u00b7 ') : '';
}

// The follow-training toggle: onChange(checked).
export function bindFollow(onChange) {
  $('follow-live').addEventListener('change', (e) => onChange(e.target.checked));
}

export function setFollow(on) { $('follow-live').checked = !!on; }

// Which training weights the canvas runs: "on the canvas: iteration 120 of 500", or nothing.
export function renderLive(live, job) {
  const note = $('job-live');
  const shown = !!(live && job && live.jobId === job.id);
  note.hidden = !shown;
  note.parentElement.hidden = !shown && !(job && ['queued', 'running'].includes(job.status));
  note.textContent = shown ? `on the canvas: iteration ${startIteration(job, live.iteration)}`
    + `${job.iterations ? ` of ${job.iterations}` : ''}` : '';
  const item = job && document.querySelector(`#jobs-list li[data-job-id="${job.id}"] .jiter`);
  if (item) item.textContent = jobIteration(job, live);
}

// A job's live weights start playing: the view keeps its settings; the card and the bar say what this is.
export function showLiveModel(job, iteration, nca) {
  if ($('view').options.length !== nca.channels + 1) setChannelOptions(nca.channels);
  markActive(null);
  $('now-playing').replaceChildren('Training ', el('b', {}, job.name),
    ` \u00b7 live weights of iteration ${startIteration(job, iteration)}${job.iterations ? `/${job.iterations}` : ''}`
    + ` \u00b7 ${nca.channels} channels`);
}

// A live version's iteration within its try: another start's versions count on from the first's, a longer try's go on.
function startIteration(job, version) {
  const before = (job.start || 1) > 1 && job.iterations ? (job.start - 1) * job.iterations : 0;
  return version > before ? version - before : version;
}

// "it 120/500" for a running job (plus "live" when its weights are on the canvas), else nothing.
function jobIteration(job, live) {
  if (!['running', 'queued'].includes(job.status) || !job.iteration) return '';
  const onCanvas = live && live.jobId === job.id ? ` \u00b7 live ${startIteration(job, live.iteration)}` : '';
  return `it ${job.iteration}${job.iterations ? `/${job.iterations}` : ''}${onCanvas}`;
}

export function setPreview(url) {
  const img = $('job-preview');
  if (img.getAttribute('src') !== url) img.src = url;
}

export function renderJobList(jobs, { onOpen, onResume, live = null }) {
  $('jobs-count').textContent = jobs.length ? `(${jobs.length})` : '';
  $('jobs-list').replaceChildren(...jobs.slice(0, 20).map((j) => el('li', { 'data-job-id': j.id },
    el('span', { class: 'jname', title: j.error || j.created, onclick: () => onOpen(j) }, j.name),
    el('span', { class: 'jiter' }, jobIteration(j, live)),
    el('span', { class: `status ${jobState(j)}` }, jobState(j)),
    j.resumable ? el('button', { type: 'button', class: 'small', onclick: () => onResume(j) }, 'Resume') : null)));
}
