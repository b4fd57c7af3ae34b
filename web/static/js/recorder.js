// recorder.js: the canvas as files: WebM video recorded in the browser (MediaRecorder), PNG
// screenshots. The badge, the timer and the download link are ui.js's.
//
//   const recorder = new Recorder(canvas, state, {live, draw, fileStem, changed});
//   recorder.start(); ... const video = await recorder.stop();  // {size, type, url, seconds}

import * as ui from './ui.js';

const MIME_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'];

export class Recorder {
  constructor(canvas, state, { live, draw, fileStem, changed = () => {} }) {
    this.canvas = canvas;
    this.state = state;
    this.live = live;              // is a model on the canvas (something to record)?
    this.draw = draw;              // paints the current frame onto the canvas
    this.fileStem = fileStem;      // download names: `${fileStem()}.webm`
    this.changed = changed;
    this.last = null;              // the latest recording: {size, type, url, seconds}
    this._recorder = null;
    this._done = null;
    this._timer = null;
  }

  toggle() { return this.state.recording ? this.stop() : this.start(); }

  // True when recording started; false when it cannot (the user has been told why).
  start() {
    if (this.state.recording || !this.live()) return false;
    if (!window.MediaRecorder || !this.canvas.captureStream) {
      ui.warn('This browser cannot record the canvas (no MediaRecorder / captureStream).');
      return false;
    }
    const type = MIME_TYPES.find((t) => MediaRecorder.isTypeSupported(t));
    if (!type) { ui.warn('This browser cannot record WebM video.'); return false; }
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

  saved(blob, seconds) {
    if (this.last) URL.revokeObjectURL(this.last.url);
    const url = URL.createObjectURL(blob);
    ui.offerDownload(url, `${this.fileStem()}.webm`, blob.size);
    this.last = { size: blob.size, type: blob.type, url, seconds };
    return this.last;
  }

  screenshot() {
    if (!this.live()) return;
    this.draw();
    this.canvas.toBlob((blob) => ui.download(blob, `${this.fileStem()}.png`), 'image/png');
  }
}
