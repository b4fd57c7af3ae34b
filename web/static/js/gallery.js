// gallery.js: the models the server offers: list them, load one into the player (fetch the
// bundle, compile its GLSL), delete a trained one; and a training job's live weights (loadLive).

import * as api from './api.js';
import { NCA } from './nca.js';
import * as ui from './ui.js';

export class Gallery {
  constructor(gl, state, player) {
    this.gl = gl;                  // null when the browser cannot run the engine
    this.state = state;
    this.player = player;
    this.models = [];
    this.picked = () => {};        // the user chose a model (main.js: stop following a training job)
    this._loadToken = 0;
  }

  async refresh() {
    this.models = await api.listModels();
    ui.renderGallery(this.models, this.state.modelId, {
      onSelect: (id) => { this.picked(id); this.load(id).catch(() => {}); },
      onDelete: (m) => this.remove(m),
    });
    return this.models;
  }

  async load(id) {
    if (!this.gl || this.state.error) return;
    const token = ++this._loadToken;
    const info = this.models.find((m) => m.id === id) || await api.getModel(id);
    ui.showOverlay(`Loading ${info.name}`, 'compiling shaders');
    let next;
    try {
      next = await NCA.load(this.gl, info.bundle_url, { width: this.state.grid, height: this.state.grid });
    } catch (err) {
      if (token === this._loadToken) ui.showOverlay(`Cannot run ${info.name}`, err.message, true);
      throw err;
    }
    if (token !== this._loadToken) { next.dispose(); return; }  // a newer click won
    Object.assign(this.state, { modelId: id, modelName: info.name, live: null, bundleUrl: info.bundle_url });
    ui.showModel(info, next);
    this.player.setModel(next);
    ui.hideOverlay();
  }

  // A training job's weights at `iteration` (a live bundle at `url`), swapped into the player with
  // the view as it is; after an earlier version of the same job the cells carry on. Resolves to
  // whether it plays now (false: a newer load won, or the version was already gone).
  async loadLive(job, url, iteration) {
    if (!this.gl || this.state.error) return false;
    const token = ++this._loadToken;
    let next;
    try {
      next = await NCA.load(this.gl, url, { width: this.state.grid, height: this.state.grid });
    } catch {
      return false;  // replaced meanwhile (only the newest few are kept): the next version comes soon
    }
    if (token !== this._loadToken) { next.dispose(); return false; }
    const carry = !!(this.state.live && this.state.live.jobId === job.id);
    Object.assign(this.state, {
      modelId: null, modelName: `${job.name}-it${iteration}`, live: { jobId: job.id, iteration, url }, bundleUrl: url,
    });
    ui.showLiveModel(job, iteration, next);
    this.player.swapModel(next, { carry });
    ui.hideOverlay();
    return true;
  }

  async remove(m) {
    if (!ui.ask(`Delete the model "${m.name}"? This cannot be undone.`)) return;
    await api.deleteModel(m.id);
    await this.refresh();
    if (m.id === this.state.modelId && this.models.length) await this.load(this.models[0].id);
  }

  // The model the address asks for (#model=id), else the first one; null when there is none.
  first() {
    const wanted = ui.modelInAddress();
    return this.models.find((m) => m.id === wanted) || this.models[0] || null;
  }
}
