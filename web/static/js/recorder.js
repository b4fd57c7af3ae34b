// recorder.js: videos and pictures: an MP4 the server renders with the PyTorch model (`nca record`:
// exact, a real duration, one pixel per cell), a WebM of the canvas recorded in the browser
// (MediaRecorder: what is on screen), PNG screenshots. The badges, the timer and the download
// link are ui.js's. state.videoFormat ('mp4' | 'webm') picks what toggle() makes.
//
//   const recorder = new Recorder(canvas, state, {live, draw, fileStem, changed});
//   recorder.start(); ... const video = await recorder.stop();  // {size, type, url, seconds, filename}
//   const mp4 = await recorder.render({steps: 480, stepsPerFrame: 2, damage: ['circle@240:r=0.2']});

import * as api from './api.js';
import * as ui from './ui.js';

const MIME_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'];
// What Record asks the server for: the model growing from the seed, 10 s at 30 fps.
export const SERVER_VIDEO = { steps: 600, stepsPerFrame: 2, fps: 30 };

export class Recorder {
  constructor(canvas, state, { live, draw, fileStem, changed = () => {} }) {
    this.canvas = canvas;
    this.state = state;
    this.live = live;              // is a model on the canvas (something to record)?
    this.draw = draw;              // paints the current frame onto the canvas
    this.fileStem = fileStem;      // download names: `${fileStem()}.webm`
    this.changed = changed;
    this.last = null;              // the latest video: {size, type, url, seconds, filename}
    this._recorder = null;
    this._done = null;
    this._timer = null;
  }

  toggle() {
    if (this.state.recording) return this.stop();
    return this.serverRenders() ? this.render() : this.start();
  }

  // MP4 chosen and a saved model plays (the server has no file of weights still training: those
  // are recorded from the screen, and the user is told so).
  serverRenders() {
    const s = this.state;
    if (s.videoFormat === 'webm') return false;
    if (!s.modelId) ui.showNotice('The server renders saved models; these weights are recorded from the screen (WebM)');
    return !!s.modelId;
  }

  // A new video starts: the last one's link and file go, so nothing stale is offered meanwhile.
  forget() {
    ui.hideDownload();
    if (this.last) URL.revokeObjectURL(this.last.url);
    this.last = null;
  }

  // The server renders the current model with the PyTorch model at the page's grid and rotation,
  // from the seed (`nca record` with these steps and damage specs). Resolves to this.last, or null
  // when it could not (the user has been told why).
  async render({ steps = SERVER_VIDEO.steps, stepsPerFrame = SERVER_VIDEO.stepsPerFrame, damage = [],
    label = 'video' } = {}) {
    const s = this.state;
    if (s.rendering || s.recording || !s.modelId) return null;
    this.forget();
    s.rendering = `rendering the ${label} on the server`;
    const started = performance.now();
    const tick = () => ui.showRendering(s.rendering, (performance.now() - started) / 1000);
    tick();
    const timer = setInterval(tick, 500);
    this.changed();
    const fps = SERVER_VIDEO.fps;
    try {
      const { blob, filename } = await api.renderVideo(s.modelId, {
        format: 'mp4', size: s.grid, steps, steps_per_frame: stepsPerFrame, fps, seed: 0, damage, angle: s.angleDeg,
      });
      return this.saved(blob, (Math.floor(steps / stepsPerFrame) + 1) / fps, filename);
    } catch (err) {
      ui.warn(`The server could not render the video: ${err.message}`);
      return null;
    } finally {
      clearInterval(timer);
      s.rendering = null;
      ui.showRendering(null);
      this.changed();
    }
  }

  // True when recording started; false when it cannot (the user has been told why).
  start() {
    if (this.state.recording || this.state.rendering || !this.live()) return false;
    if (!window.MediaRecorder || !this.canvas.captureStream) {
      ui.warn('This browser cannot record the canvas (no MediaRecorder / captureStream).');
      return false;
    }
    const type = MIME_TYPES.find((t) => MediaRecorder.isTypeSupported(t));
    if (!type) { ui.warn('This browser cannot record WebM video.'); return false; }
    this.forget();
    const stream = this.canvas.captureStream(30);
    const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 8e6 });
    const chunks = [];
    const started = performance.now();
    recorder.ondataavailable = (e) => { if (e.data && e.data.size) chunks.push(e.data); };
    this._done = new Promise((resolve) => {
      recorder.onstop = () => {
        stream.getTracks().forEach((track) => track.stop());
        resolve(this.saved(new Blob(chunks, { type: 'video/webm' }), (performance.now() - started) / 1000));
      };
    });
    recorder.start(250);
    this._recorder = recorder;
    this.state.recording = true;
    ui.showRecording(true);
    this._timer = setInterval(() => ui.setRecordingTime((performance.now() - started) / 1000), 250);
    this.changed();
    return true;
  }

  stop() {
    if (!this.state.recording) return this._done || Promise.resolve(null);
    this.draw();  // one last frame for the encoder
    this._recorder.stop();
    clearInterval(this._timer);
    ui.showRecording(false);
    this.state.recording = false;
    this.changed();
    return this._done;
  }

  saved(blob, seconds, filename = `${this.fileStem()}.webm`) {
    if (this.last) URL.revokeObjectURL(this.last.url);
    const url = URL.createObjectURL(blob);
    ui.offerDownload(url, filename, blob.size);
    this.last = { size: blob.size, type: blob.type, url, seconds, filename };
    return this.last;
  }

  screenshot() {
    if (!this.live()) return;
    this.draw();
    this.canvas.toBlob((blob) => ui.download(blob, `${this.fileStem()}.png`), 'image/png');
  }
}
