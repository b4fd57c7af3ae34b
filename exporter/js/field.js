// field.js: painted fields, the mirror of nca/fields.py (same presets, same brushes, same numbers).
// Pure functions on a Float32Array of H*W*4, [y][x][k cos, k sin, speed, mix], row 0 = top; nca.js
// uploads it as the update pass's u_field texture. No DOM, no WebGL.
//
//   cos, sin  of the cell's angle, composed with the global angle (rotates its Sobel pair), times
//             the cell's perception scale k (the texture k times as large; Laplacian times k^2)
//   speed     fire-rate factor: the cell fires with probability min(1, fireRate * speed); 0 freezes it
//   mix       graft mix: 0 runs the model, 1 the second model, in between a blend of their updates
//
// Every value is computed in float64 and stored as float32, in the same order of operations as
// the Python side, so a preset or a stroke gives the field that `nca record` paints.

export const DIRECTIONS = ['uniform', 'radial', 'vortex', 'hyperbolic'];
export const SPEEDS = ['uniform', 'gradient'];
export const SCALES = ['uniform', 'gradient'];
export const BRUSHES = ['direction', 'speed', 'graft', 'scale'];
// The fire-rate factors of the pages' speed brushes (0 freezes).
export const SPEED_BRUSHES = { slow: 0.25, freeze: 0, fast: 2 };
// The perception scales of the pages' scale brushes: the texture 1.5x larger or smaller there.
export const SCALE_BRUSHES = { larger: 1.5, smaller: 1 / 1.5 };
// A scale dab's soft edge (a fraction of its radius): the texture's size blends into its surroundings.
export const SCALE_SOFT = 0.5;
// A scale outside these is clamped (k = 0 would blind the cell).
export const SCALE_LIMITS = [0.25, 4];
const clampScale = (k) => Math.min(Math.max(k, SCALE_LIMITS[0]), SCALE_LIMITS[1]);

// The angle a direction stroke paints for a motion of (dx, dy) cells (y down): the texture's x axis
// along the motion; null without motion.
export const strokeAngle = (dx, dy) => (dx === 0 && dy === 0 ? null : -Math.atan2(dy, dx));

export function uniformField(width, height, { angle = 0, speed = 1, mix = 0, scale = 1 } = {}) {
  const f = new Float32Array(width * height * 4);
  const c = scale * Math.cos(angle), s = scale * Math.sin(angle);
  for (let i = 0; i < width * height; i++) {
    f[4 * i] = c; f[4 * i + 1] = s; f[4 * i + 2] = speed; f[4 * i + 3] = mix;
  }
  return f;
}

// The shortest displacement on a ring of `size` cells (-size/2 at a tie), as nca/disc.py's _signed.
const signed = (d, size) => d - size * Math.floor(d / size + 0.5);
// The distance on a ring of `size` cells, as nca/disc.py's _wrapped.
const wrapped = (d, size) => { const a = Math.abs(d) % size; return Math.min(a, size - a); };

// The angle (radians) of a direction preset at cell (col, row), centred on (x, y) in fractions.
// The texture turns by minus the cell's angle (y down): radial points its x axis away from the
// centre, vortex along circles around it, hyperbolic mirrors it.
export function directionAngle(kind, col, row, width, height, x = 0.5, y = 0.5, angle = 0) {
  if (kind === 'uniform') return angle;
  const dy = signed(row + 0.5 - y * height, height);
  const dx = signed(col + 0.5 - x * width, width);
  const phi = Math.atan2(dy, dx);
  if (kind === 'radial') return angle - phi;
  if (kind === 'vortex') return angle - phi - Math.PI / 2;
  if (kind === 'hyperbolic') return angle + phi;
  throw new Error(`unknown direction field ${kind}; choose one of ${DIRECTIONS.join(', ')}`);
}

// A left-to-right preset's value at column `col`: uniform 1, or a gradient from lo to hi.
function leftToRight(kind, choices, what, col, width, lo, hi) {
  if (kind === 'uniform') return 1;
  if (kind === 'gradient') return lo + (hi - lo) * ((col + 0.5) / width);
  throw new Error(`unknown ${what} field ${kind}; choose one of ${choices.join(', ')}`);
}

export const speedFactor = (kind, col, width, lo = 0.25, hi = 2.0) => leftToRight(kind, SPEEDS, 'speed', col, width, lo, hi);

// By default the texture 1.5x smaller at the left edge and 1.5x larger at the right.
export const scaleFactor = (kind, col, width, lo = 0.67, hi = 1.5) =>
  clampScale(leftToRight(kind, SCALES, 'scale', col, width, lo, hi));

// The cell's perception scale: the length of its (k cos, k sin).
const scaleAt = (field, i) => Math.sqrt(field[i] * field[i] + field[i + 1] * field[i + 1]);

// Give cell i the scale k (clamped), keeping its angle.
function setScaleAt(field, i, k) {
  const ratio = clampScale(k) / scaleAt(field, i);
  field[i] *= ratio; field[i + 1] *= ratio;
}

// Set the direction of every cell from a preset {kind, x, y, angle}; each cell keeps its scale.
export function applyDirection(field, width, height, { kind = 'uniform', x = 0.5, y = 0.5, angle = 0 } = {}) {
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const a = directionAngle(kind, col, row, width, height, x, y, angle);
      const i = 4 * (row * width + col);
      const k = scaleAt(field, i);
      field[i] = k * Math.cos(a); field[i + 1] = k * Math.sin(a);
    }
  }
  return field;
}

// Set the scale of every cell from a preset {kind, lo, hi}; each cell keeps its angle.
export function applyScale(field, width, height, { kind = 'uniform', lo = 0.67, hi = 1.5 } = {}) {
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) setScaleAt(field, 4 * (row * width + col), scaleFactor(kind, col, width, lo, hi));
  }
  return field;
}

// Set the speed of every cell from a preset {kind, lo, hi}.
export function applySpeed(field, width, height, { kind = 'uniform', lo = 0.25, hi = 2.0 } = {}) {
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) field[4 * (row * width + col) + 2] = speedFactor(kind, col, width, lo, hi);
  }
  return field;
}

// A brush dab's weight at cell (col, row): 1 within (1 - soft) of the radius, then linear to 0 at it.
function weight(col, row, width, height, x, y, r, soft) {
  const radius = r * Math.min(width, height);
  const dy = wrapped(row + 0.5 - y * height, height);
  const dx = wrapped(col + 0.5 - x * width, width);
  const d = Math.sqrt(dy * dy + dx * dx);
  if (soft <= 0) return d <= radius ? 1 : 0;
  const inner = radius * (1 - soft);
  return d <= inner ? 1 : Math.min(Math.max((radius - d) / (radius - inner), 0), 1);
}

// One dab, in place; returns the first and last row it touched (for a partial upload), or null.
// 'direction' sets angle `value` (radians) in the disc; 'speed', 'graft' and 'scale' move each cell's
// value towards `value` by the dab's weight, so a soft edge blends and repeated dabs converge.
export function paintField(field, width, height, kind, value, x, y, r, soft = 0) {
  const channel = { direction: 0, speed: 2, graft: 3, scale: 0 }[kind];
  if (channel === undefined) throw new Error(`unknown brush ${kind}; choose one of ${BRUSHES.join(', ')}`);
  const c = Math.cos(value), s = Math.sin(value);
  let first = -1, last = -1;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const w = weight(col, row, width, height, x, y, r, soft);
      if (w <= 0) continue;
      const i = 4 * (row * width + col);
      if (kind === 'direction') {
        const k = scaleAt(field, i);
        field[i] = k * c; field[i + 1] = k * s;
      } else if (kind === 'scale') {
        const k = scaleAt(field, i);
        setScaleAt(field, i, k + w * (clampScale(value) - k));
      } else field[i + channel] += w * (value - field[i + channel]);
      if (first < 0) first = row;
      last = row;
    }
  }
  return first < 0 ? null : [first, last];
}
