// training.js: the training panel: send an image to train, follow a job's progress (Server-Sent
// Events), list recent jobs, cancel and resume. A finished job's model joins the gallery.

import * as api from './api.js';
import * as ui from './ui.js';

export class Training {
  constructor(state, gallery) {
    this.state = state;
    this.gallery = gallery;
    this.jobEvents = [];           // every SSE event received, {kind, data} (tests read it)
    this._stopWatch = null;
  }

  bind() {
    ui.bindTrainForm({
      onSubmit: (file, options) => this.train(file, options),
      onCancel: async () => {
        const job = this.state.watchedJob;
        if (job) ui.renderJobCard(await api.cancelJob(job.id).catch(() => job));
      },
      onResume: () => this.state.watchedJob && this.resume(this.state.watchedJob),
    });
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
    ui.showJobCard(job);
    this._stopWatch = api.watchJob(job.id, {
      any: (kind, data) => this.jobEvents.push({ kind, data }),
      job: (j) => this.update(j, loadWhenDone),
      progress: (p) => ui.renderProgress(p),
      preview: (p) => ui.setPreview(p.url),
    });
  }

  update(job, loadWhenDone) {
    const was = this.state.watchedJob && this.state.watchedJob.status;
    this.state.watchedJob = job;
    ui.renderJobCard(job);
    if (job.status !== was) this.refresh();
    if (job.status === 'finished' && job.model_id && was !== 'finished') {
      // The new model joins the gallery; it starts running if this page asked for it.
      this.gallery.refresh()
        .then(() => (loadWhenDone ? this.gallery.load(job.model_id) : null))
        .catch(() => {});
    }
  }

  async refresh() {
    const jobs = await api.listJobs();
    ui.renderJobList(jobs, {
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
