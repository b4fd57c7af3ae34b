// fields.js: the studio's painted fields (the engine's: exporter/js/field.js, nca.js): the direction,
// speed and scale presets, the field brushes, and the graft model. No DOM; the player owns one (player.fields) and
// reports through its `changed` and `notice` callbacks. What it keeps in the studio's state:
//
//   state.field = {direction: 'uniform' | 'radial' | 'vortex' | 'hyperbolic', fx, fy, speed: 'uniform' | 'gradient',
//                  scale: 'uniform' | 'gradient'}
//       the presets (fx, fy: the direction preset's centre, fractions of the grid); they outlast a model change
//   state.graft = {id, name, channels, url} | null   the second model painted cells run (graft brush)
//   state.graftLoading = id | null                   a graft on its way
//   state.fieldsSupported                            the playing bundle paints fields (bundle schema 2)

import { SCALE_BRUSHES, SCALE_SOFT, SPEED_BRUSHES, strokeAngle } from './field.js';

// Brush modes that paint the field, beside the state brushes 'erase' and 'noise': what each writes.
export const FIELD_BRUSHES = {
  direction: { kind: 'direction', soft: 0 },     // the angle of the stroke's motion
  slow: { kind: 'speed', value: SPEED_BRUSHES.slow, soft: 0 },  // fire-rate factors
  freeze: { kind: 'speed', value: SPEED_BRUSHES.freeze, soft: 0 },
  fast: { kind: 'speed', value: SPEED_BRUSHES.fast, soft: 0 },
  larger: { kind: 'scale', value: SCALE_BRUSHES.larger, soft: SCALE_SOFT },  // perception scales
  smaller: { kind: 'scale', value: SCALE_BRUSHES.smaller, soft: SCALE_SOFT },
  graft: { kind: 'graft', value: 1, soft: 0.5 },  // graft mix: the second model / back to this one
  ungraft: { kind: 'graft', value: 0, soft: 0.5 },
  centre: { kind: 'centre' },                     // moves the direction preset's centre
};
export const BRUSH_MODES = ['erase', 'noise', ...Object.keys(FIELD_BRUSHES)];
export const FIELD_DEFAULTS = Object.freeze({ direction: 'uniform', fx: 0.5, fy: 0.5, speed: 'uniform', scale: 'uniform' });
export const OLD_BUNDLE_HINT = 're-export this model to paint fields';
export const OLD_SCALE_HINT = 're-export this model to paint its scale';

const clamp01 = (v) => Math.max(0, Math.min(1, v));

export class Fields {
  // nca(): the engine playing now (or null).
  constructor(state, { nca, changed = () => {}, notice = () => {} }) {
    this.state = state;
    this.nca = nca;
    this.changed = changed;
    this.notice = notice;
    this._token = 0;  // the latest graft choice; older loads are dropped when they land
    this._queue = Promise.resolve();
    Object.assign(state, { field: { ...FIELD_DEFAULTS }, graft: null, graftLoading: null, fieldsSupported: false });
  }

  // Why brush `mode` cannot paint now ('' when it can).
  unavailable(mode) {
    if (!(mode in FIELD_BRUSHES)) return '';
    const nca = this.nca();
    if (nca && !nca.supportsFields) return `This model paints no fields: ${OLD_BUNDLE_HINT}`;
    if (nca && FIELD_BRUSHES[mode].kind === 'scale' && !nca.supportsScale) return `This model paints no scale: ${OLD_SCALE_HINT}`;
    if ((mode === 'graft' || mode === 'ungraft') && !this.state.graft) return 'Choose a graft model first';
    if (mode === 'centre' && this.state.field.direction === 'uniform') return 'A uniform direction field has no centre';
    return '';
  }

  // A new engine plays: the presets again (and, from `carry`, the previous engine's painted field when it
  // is the same size: a training job's newer weights); the graft follows when the channel counts agree.
  attach(nca, { carry = null } = {}) {
    const s = this.state;
    s.fieldsSupported = !!nca.supportsFields;
    if (nca.supportsFields) {
      this._applyPresets(nca);
      if (carry && carry.supportsFields && carry.width === nca.width && carry.height === nca.height) {
        nca.setField(carry.readField());
      }
    }
    const graft = s.graft;
    if (graft) {
      if (!nca.supportsFields || graft.channels !== nca.channels) {
        this._drop(`Graft ${graft.name} dropped: ${nca.supportsFields ? `it has ${graft.channels} channels, this model ${nca.channels}` : OLD_BUNDLE_HINT}`);
      } else {
        this._load(graft, nca);
      }
    }
    this.settleBrush();
  }

  // A brush mode that can no longer paint (the graft went, an old bundle) falls back to erasing.
  settleBrush() {
    if (this.unavailable(this.state.brush.mode)) this.state.brush.mode = 'erase';
  }

  _applyPresets(nca) {
    const f = this.state.field;
    nca.setDirectionField({ kind: f.direction, x: f.fx, y: f.fy, angle: 0 });
    nca.setSpeedField({ kind: f.speed });
    if (nca.supportsScale) nca.setScaleField({ kind: f.scale });
  }

  _engine() {
    const nca = this.nca();
    return nca && nca.supportsFields ? nca : null;
  }

  // ---- presets ---------------------------------------------------------------------------
  // Any of {direction, fx, fy, speed, scale}; what is left out stays. Presets overwrite painted strokes of
  // their kind.
  setPresets({ direction, fx, fy, speed, scale } = {}) {
    const f = this.state.field;
    const dir = direction !== undefined && direction !== f.direction
      || fx !== undefined && clamp01(fx) !== f.fx || fy !== undefined && clamp01(fy) !== f.fy;
    const spd = speed !== undefined && speed !== f.speed;
    const scl = scale !== undefined && scale !== f.scale;
    if (direction !== undefined) f.direction = direction;
    if (fx !== undefined) f.fx = clamp01(fx);
    if (fy !== undefined) f.fy = clamp01(fy);
    if (speed !== undefined) f.speed = speed;
    if (scale !== undefined) f.scale = scale;
    const nca = this._engine();
    if (nca && dir) nca.setDirectionField({ kind: f.direction, x: f.fx, y: f.fy, angle: 0 });
    if (nca && spd) nca.setSpeedField({ kind: f.speed });
    if (nca && scl && nca.supportsScale) nca.setScaleField({ kind: f.scale });
    this.settleBrush();
    this.changed();
  }

  setDirection(kind) { this.setPresets({ direction: kind }); }

  setSpeed(kind) { this.setPresets({ speed: kind }); }

  setScale(kind) { this.setPresets({ scale: kind }); }

  // The direction preset centred on grid point (x, y) (fractions, y down).
  setCentre(x, y) { this.setPresets({ fx: x, fy: y }); }

  // Uniform direction, speed and scale, no graft mix (the graft model stays loaded).
  reset() {
    Object.assign(this.state.field, FIELD_DEFAULTS);
    const nca = this._engine();
    if (nca) {
      this._applyPresets(nca);
      nca.clearGraftMix();
    }
    this.settleBrush();
    this.changed();
  }

  // ---- brushes ---------------------------------------------------------------------------
  // One dab of field brush `mode` at grid point (x, y); (dx, dy): the stroke's motion in cells.
  paint(mode, x, y, radius, dx = 0, dy = 0) {
    const brush = FIELD_BRUSHES[mode];
    const nca = this._engine();
    if (!brush || !nca || this.unavailable(mode)) return;
    if (brush.kind === 'centre') { this.setCentre(x, y); return; }
    const value = brush.kind === 'direction' ? strokeAngle(dx, dy) : brush.value;
    if (value == null) return;  // a click without motion has no direction
    nca.paintField(brush.kind, value, x, y, radius, brush.soft);
  }

  // ---- the graft -------------------------------------------------------------------------
  // info: a gallery model ({id, name, channels, bundle_url}), or null for none. Resolves once it runs.
  async setGraft(info) {
    const nca = this._engine();
    if (!info) {
      this._drop(null);
      return;
    }
    if (!nca) {
      this.notice(`Cannot graft: ${OLD_BUNDLE_HINT}`);
      return;
    }
    if (info.channels !== nca.channels) {
      this.notice(`Cannot graft ${info.name}: it has ${info.channels} channels, this model ${nca.channels}`);
      this.changed();
      return;
    }
    this.state.graft = { id: info.id, name: info.name, channels: info.channels, url: info.bundle_url };
    await this._load(this.state.graft, nca);
  }

  // Loads run one after another, so the latest choice is the one left compiled; a load that a newer
  // choice (another graft, none, another model) overtook is undone once it lands.
  _load(graft, nca) {
    const token = ++this._token;
    this.state.graftLoading = graft.id;
    this.changed();
    const run = async () => {
      if (token !== this._token) return;
      try {
        await nca.loadGraft(graft.url);
      } catch (err) {
        if (token === this._token) this._drop(`Cannot graft ${graft.name}: ${err.message}`);
        return;
      }
      if (token !== this._token) { nca.ungraft(); return; }
      this.state.graftLoading = null;
      this.changed();
    };
    this._queue = this._queue.then(run, run);
    return this._queue;
  }

  _drop(why) {
    this._token++;
    const nca = this.nca();
    if (nca && nca.graftName) nca.ungraft();
    Object.assign(this.state, { graft: null, graftLoading: null });
    if (why) this.notice(why);
    this.settleBrush();
    this.changed();
  }
}
