// api.js: the studio's HTTP API from the page. Every function throws ApiError with the
// server's one-line `detail` on a non-2xx answer.
//
//   const models = await listModels();            // [{id, name, bundled, bundle_url, thumbnail_url, ...}]
//   const job = await createJob(file, {name, preset, init, iterations});
//   const stop = watchJob(job.id, {job(j) {}, progress(p) {}, preview(p) {}, live(l) {}, end() {}});  // SSE
//   const {blob, filename} = await renderVideo(id, {size: 256, steps: 480, damage: ['circle@240:r=0.2']});

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, url, body) {
  const response = await fetch(url, { method, body, headers: { Accept: 'application/json' } });
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) throw apiError(response, data, `${method} ${url}`);
  return data;
}

function apiError(response, data, what) {
  let detail = data && data.detail;
  if (Array.isArray(detail)) {  // FastAPI validation errors: [{loc, msg}, ...]
    detail = detail.map((d) => `${(d.loc || []).slice(1).join('.') || 'request'}: ${d.msg}`).join('; ');
  }
  return new ApiError(response.status, detail || `${what} failed: HTTP ${response.status}`);
}

export const listModels = () => request('GET', '/api/models');
export const getModel = (id) => request('GET', `/api/models/${encodeURIComponent(id)}`);
export const deleteModel = (id) => request('DELETE', `/api/models/${encodeURIComponent(id)}`);
export const listJobs = () => request('GET', '/api/jobs');
export const getJob = (id) => request('GET', `/api/jobs/${encodeURIComponent(id)}`);
export const cancelJob = (id) => request('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`);
export const resumeJob = (id) => request('POST', `/api/jobs/${encodeURIComponent(id)}/resume`);

// A video the server renders with the PyTorch model (`nca record`): {blob, filename}.
// options: {format: 'mp4' | 'webm', size, steps, steps_per_frame, fps, seed, damage: [spec], angle (degrees)}.
export async function renderVideo(id, options) {
  const url = `/api/models/${encodeURIComponent(id)}/video`;
  const response = await fetch(url, {
    method: 'POST', body: JSON.stringify(options),
    headers: { 'Content-Type': 'application/json', Accept: 'video/mp4, video/webm, application/json' },
  });
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { /* not JSON */ }
    throw apiError(response, data, `POST ${url}`);
  }
  const blob = await response.blob();
  const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return { blob, filename: named ? named[1] : `video.${options.format || 'mp4'}` };
}

export function createJob(file, { name = '', preset = 'quick', init = '', iterations = null } = {}) {
  const form = new FormData();
  form.append('image', file, file.name || 'image');
  if (name) form.append('name', name);
  form.append('preset', preset);
  if (init) form.append('init', init);  // '' : the preset's own start
  if (iterations) form.append('iterations', String(iterations));
  return request('POST', '/api/jobs', form);
}

// Follow a job's Server-Sent Events; handlers get parsed JSON. Returns a function that stops.
// The server ends the stream once the job reaches a final state; we close then instead of
// letting EventSource reconnect.
export function watchJob(id, handlers = {}) {
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  let closed = false;
  const close = () => { if (!closed) { closed = true; source.close(); } };
  for (const kind of ['job', 'progress', 'preview', 'live']) {
    source.addEventListener(kind, (event) => {
      const data = JSON.parse(event.data);
      if (handlers.any) handlers.any(kind, data);
      if (handlers[kind]) handlers[kind](data);
    });
  }
  source.addEventListener('end', () => { close(); if (handlers.end) handlers.end(); });
  source.onerror = () => {
    // A dropped connection reconnects by itself (Last-Event-ID resumes); a 404 does not.
    if (source.readyState === EventSource.CLOSED && !closed) {
      closed = true;
      if (handlers.error) handlers.error();
    }
  };
  return close;
}
