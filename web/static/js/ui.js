// ui.js: all the DOM work of the studio: controls, pointer (brush, zoom, pan), keyboard, overlay,
// readout, gallery, recording badge and download, training form and job rendering. Other modules
// call these functions; controls call back the `studio` actions that main.js binds. No WebGL here.

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
  $('btn-scenario').disabled = !!s.scenario;
}

export function renderReadout(s, nca) {
  $('ro-sps').textContent = s.stepsPerSec.toFixed(s.stepsPerSec < 10 ? 1 : 0);
  $('ro-fps').textContent = s.fps.toFixed(0);
  $('ro-spf').textContent = s.speed === 'auto' ? Math.max(1, Math.round(s.spf)) : s.speed;
  if (nca) {
    $('ro-grid').textContent = `${nca.width}\u00d7${nca.height}`;
    $('ro-format').textContent = nca.format;
    $('ro-step').textContent = nca.stepCount;
  }
}

export function setChannelOptions(channels) {
  const select = $('view');
  select.replaceChildren(el('option', { value: 'rgb' }, 'RGB'));
  for (let c = 0; c < channels; c++) {
    select.append(el('option', { value: String(c) }, `channel ${c}${c < 3 ? ' (' + 'RGB'[c] + ')' : ' (hidden)'}`));
  }
}

// ---- pointer: brush on left-drag, pan on right/shift-drag, zoom on wheel ---------------
export function bindPointer(canvas, studio) {
  const cursor = $('brush-cursor');
  let drag = null;  // {mode: 'brush' | 'pan', x, y, id}

  const at = (x, y) => {
    const rect = canvas.getBoundingClientRect();
    return [(x - rect.left) / rect.width, (y - rect.top) / rect.height];
  };
  const placeCursor = (e) => {
    const rect = canvas.getBoundingClientRect();
    const d = 2 * studio.brushScreenRadius(rect.width);
    cursor.style.width = cursor.style.height = `${d}px`;
    cursor.style.left = `${e.clientX - rect.left}px`;
    cursor.style.top = `${e.clientY - rect.top}px`;
    cursor.classList.toggle('noise', studio.state.brush.mode === 'noise');
    cursor.hidden = false;
  };

  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    const pan = e.button === 2 || e.button === 1 || e.shiftKey;
    drag = { mode: pan ? 'pan' : 'brush', x: e.clientX, y: e.clientY, id: e.pointerId };
    if (pan) canvas.classList.add('panning');
    else studio.brushAt(...at(e.clientX, e.clientY));
    e.preventDefault();
  });
  canvas.addEventListener('pointermove', (e) => {
    placeCursor(e);
    if (!drag || drag.id !== e.pointerId) return;
    const rect = canvas.getBoundingClientRect();
    if (drag.mode === 'pan') {
      studio.panBy((drag.x - e.clientX) / rect.width, (drag.y - e.clientY) / rect.height);
    } else {
      // Dabs along the segment, a quarter of the brush diameter apart, so fast strokes stay solid.
      const spacing = Math.max(1, studio.brushScreenRadius(rect.width) * 0.5);
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      const n = Math.max(1, Math.ceil(Math.hypot(dx, dy) / spacing));
      for (let i = 1; i <= n; i++) studio.brushAt(...at(drag.x + (dx * i) / n, drag.y + (dy * i) / n));
    }
    drag.x = e.clientX;
    drag.y = e.clientY;
  });
  const end = (e) => {
    if (drag && drag.id === e.pointerId) drag = null;
    canvas.classList.remove('panning');
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
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
  link.textContent = `Download video (${(bytes / 1e6).toFixed(1)} MB)`;
  link.hidden = false;
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
    m.verdict ? el('span', { class: `verdict ${m.verdict}`, title: verdictTitle(m) }, VERDICT_LABELS[m.verdict]) : null);
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
}

// What the quality check (nca/verdict.py) found, in a word on the card.
const VERDICT_LABELS = { good: 'good', drifts: 'drifts', poor: 'poor', failed: 'failed' };

function verdictTitle(m) {
  const reasons = (m.quality && m.quality.reasons) || [];
  const text = {
    good: 'holds its texture: close to the style, features of its size, steady over thousands of steps',
    drifts: 'starts right, then changes over thousands of steps',
    poor: 'does not look like its style image',
    failed: 'learned nothing: the texture is flat or black',
  }[m.verdict];
  return reasons.length ? `${text} (${reasons.join('; ')})` : text;
}

export function markActive(id) {
  for (const card of document.querySelectorAll('#gallery .card')) {
    card.classList.toggle('active', card.dataset.modelId === id);
  }
}

// A model starts playing: its channels in the view menu, its card, its name, the address.
export function showModel(info, nca) {
  setChannelOptions(nca.channels);
  markActive(info.id);
  $('now-playing').replaceChildren('Playing ', el('b', {}, info.name),
    ` \u00b7 ${nca.channels} channels \u00b7 ${nca.model.parameter_count} parameters`);
  history.replaceState(null, '', `#model=${encodeURIComponent(info.id)}`);
}

export function modelInAddress() {
  return decodeURIComponent((location.hash.match(/model=([^&]+)/) || [])[1] || '');
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
  const label = job.status === 'running' && job.phase && job.phase !== 'training' ? job.phase
    : job.status === 'queued' && job.queue_position ? `queued #${job.queue_position}` : job.status;
  const learnedNothing = jobState(job) !== job.status;
  status.textContent = learnedNothing ? 'failed: learned nothing' : label;
  status.className = `status ${jobState(job)}`;
  renderProgress(job);
  if (job.style_url && $('job-style').getAttribute('src') !== job.style_url) $('job-style').src = job.style_url;
  if (job.preview_url) setPreview(job.preview_url);
  const err = $('job-error');
  err.hidden = !job.error;
  err.textContent = job.error || '';
  $('btn-cancel').hidden = !['queued', 'running'].includes(job.status);
  $('btn-resume').hidden = !job.resumable;
}

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
  $('job-eta').textContent = formatSeconds(p.eta_s);
  $('job-bar').style.width = total ? `${Math.min(100, (100 * (p.iteration || 0)) / total)}%` : '0%';
}

export function setPreview(url) {
  const img = $('job-preview');
  if (img.getAttribute('src') !== url) img.src = url;
}

export function renderJobList(jobs, { onOpen, onResume }) {
  $('jobs-count').textContent = jobs.length ? `(${jobs.length})` : '';
  $('jobs-list').replaceChildren(...jobs.slice(0, 20).map((j) => el('li', { 'data-job-id': j.id },
    el('span', { class: 'jname', title: j.error || j.created, onclick: () => onOpen(j) }, j.name),
    el('span', { class: `status ${jobState(j)}` }, jobState(j)),
    j.resumable ? el('button', { type: 'button', class: 'small', onclick: () => onResume(j) }, 'Resume') : null)));
}
