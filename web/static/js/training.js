// training.js: the training panel: send an image to train, follow a job's progress (Server-Sent
// Events), list recent jobs, cancel and resume. A finished job's model joins the gallery.
// While a job trains, "follow training" (state.followLive, on for each job the page starts
// watching) runs its live weights on the canvas (`live` events: a bundle every few iterations),
// and the remaining time counts down between estimates, the phases after training included.

import * as api from './api.js';
import * as ui from './ui.js';

export class Training {
  constructor(state, gallery) {
    this.state = state;
    this.gallery = gallery;
    this.jobEvents = [];           // every SSE event received, {kind, data} (tests read it)
    this._stopWatch = null;
    this._loadWhenDone = false;
    this._cancelling = null;       // id of the job this page asked to cancel (shown at once)
    this._remaining = { parts: {}, at: 0 };  // the latest estimate and when it came
    this._liveWanted = null;       // the newest live version not loaded yet: {iteration, url}
    this._liveBusy = false;
    setInterval(() => this.tick(), 1000);
  }

  bind() {
    ui.bindTrainForm({
      onSubmit: (file, options) => this.train(file, options),
      onCancel: () => this.cancel(),
      onResume: () => this.state.watchedJob && this.resume(this.state.watchedJob),
    });
    ui.bindFollow((on) => this.setFollow(on));
  }

  // "cancelling" at once: the server stops the worker between iterations, which may take a while.
  async cancel() {
    const job = this.state.watchedJob;
    if (!job) return;
    if (job.status === 'running') {
      this._cancelling = job.id;
      this.update({ ...job, phase: 'cancelling', remaining: {} });
    }
    const answer = await api.cancelJob(job.id).catch(() => null);
    const now = this.state.watchedJob;
    if (answer && now && now.id === answer.id && now.status === answer.status) this.update(answer);
  }

  setFollow(on) {
    this.state.followLive = !!on;
    ui.setFollow(on);
    const job = this.state.watchedJob;
    if (on && job && job.live_url) this.wantLive({ iteration: job.live_iteration, url: job.live_url });
  }

  async train(file, options) {
    const job = await api.createJob(file, options);
    this.watch(job, { loadWhenDone: true });
    this.refresh();
    return job;
  }

  async resume(job) {
    this.watch(await api.resumeJob(job.id), { loadWhenDone: true });
    this.refresh();
  }

  watch(job, { loadWhenDone = false } = {}) {
    if (this._stopWatch) this._stopWatch();
    this.state.watchedJob = job;
    this._loadWhenDone = loadWhenDone;
    this._cancelling = null;
    this._liveWanted = null;
    this.setFollow(true);
    ui.showJobCard(job);
    this.update(job);
    this._stopWatch = api.watchJob(job.id, {
      any: (kind, data) => this.jobEvents.push({ kind, data }),
      job: (j) => this.update(j),
      progress: (p) => this.progress(p),
      preview: (p) => ui.setPreview(p.url),
      live: (l) => this.wantLive(l),
    });
  }

  update(job) {
    const was = this.state.watchedJob && this.state.watchedJob.status;
    if (this._cancelling === job.id && job.status === 'running') job = { ...job, phase: 'cancelling', remaining: {} };
    this.state.watchedJob = job;
    ui.renderJobCard(job);
    this.setRemaining(job.remaining);
    if (job.status !== was) this.refresh().catch(() => {});
    if (job.live_url) this.wantLive({ iteration: job.live_iteration, url: job.live_url });
    ui.renderLive(this.state.live, job);
    if (job.status === 'finished' && job.model_id && was !== 'finished') {
      // The new model joins the gallery; it starts running if this page asked for it and still follows.
      this.gallery.refresh()
        .then(() => (this._loadWhenDone && this.state.followLive ? this.gallery.load(job.model_id) : null))
        .catch(() => {});
    }
  }

  progress(p) {
    const job = this.state.watchedJob;
    ui.renderProgress(p);
    if (job && job.status === 'running' && job.phase !== 'cancelling') this.setRemaining(p.remaining);
    if (job) Object.assign(job, { iteration: p.iteration, iterations: p.iterations });
    ui.renderLive(this.state.live, job);
  }

  // ---- the remaining time: the latest estimate, counted down between them --------------------
  setRemaining(parts) {
    this._remaining = { parts: parts || {}, at: performance.now() };
    this.tick();
  }

  tick() {
    const job = this.state.watchedJob;
    if (!job) return;
    const { parts, at } = this._remaining;
    ui.renderRemaining(parts, (performance.now() - at) / 1000, job.status === 'running' && job.phase !== 'cancelling');
  }

  // ---- live weights: the newest version announced is loaded (one at a time) while following --
  wantLive(live) {
    const job = this.state.watchedJob;
    if (!live.url || !job || job.status !== 'running' || !this.state.followLive) return;
    const playing = this.state.live;
    if (playing && playing.jobId === job.id && playing.iteration >= live.iteration) return;
    if (this._liveWanted && this._liveWanted.iteration >= live.iteration) return;
    this._liveWanted = live;
    if (!this._liveBusy) this.loadLive();
  }

  async loadLive() {
    this._liveBusy = true;
    try {
      while (this._liveWanted) {
        const live = this._liveWanted;
        this._liveWanted = null;
        const job = this.state.watchedJob;
        if (!job || job.status !== 'running' || !this.state.followLive) break;
        await this.gallery.loadLive(job, live.url, live.iteration);
        ui.renderLive(this.state.live, this.state.watchedJob);
      }
    } finally {
      this._liveBusy = false;
    }
  }

  async refresh() {
    const jobs = await api.listJobs();
    ui.renderJobList(jobs, {
      live: this.state.live,
      onOpen: (j) => {
        this.watch(j, { loadWhenDone: ['queued', 'running'].includes(j.status) });
        if (j.status === 'finished' && j.model_id) this.gallery.load(j.model_id).catch(() => {});
      },
      onResume: (j) => this.resume(j),
    });
    return jobs;
  }

  // Follow the job that is training (or next), else the newest one if a restart interrupted it.
  async followActive() {
    const jobs = await this.refresh().catch(() => []);
    const active = jobs.find((j) => j.status === 'running') || jobs.find((j) => j.status === 'queued')
      || (jobs[0] && jobs[0].status === 'interrupted' ? jobs[0] : null);
    if (active) this.watch(active, { loadWhenDone: true });
  }
}
