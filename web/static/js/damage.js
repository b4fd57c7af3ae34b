// damage.js: the damage language of `nca record` (nca/record/damage.py) for the page: specs
// `KIND@STEP[:key=value,...]`, parsed with the same kinds, defaults, limits and errors. No DOM.
//
//   circle@600:x=0.5,y=0.5,r=0.25   erase a disc back to the seed (x, y: centre as a fraction
//                                   of width / height; r: radius as a fraction of the shorter side)
//   half@1200:side=left             erase the left (right, top, bottom) half back to the seed
//   noise@1800:r=0.3                fill a disc (x, y default 0.5) with uniform noise in [-amp, amp]
//   reset@2400                      the whole state back to the seed
//
//   const events = validateSchedule(['circle@240:r=0.2'].map(parseDamage), 480);  // sorted by step
//   applyDamage(nca, events[0]);    // on an NCA (nca.js) when it reaches events[0].step

export const SIDES = ['left', 'right', 'top', 'bottom'];

// Every kind, its parameters and their defaults. A key not listed here is a typo: refuse it.
export const KINDS = {
  circle: { x: 0.5, y: 0.5, r: 0.25 },
  half: { side: 'left' },
  noise: { x: 0.5, y: 0.5, r: 0.25, amp: 1.0 },
  reset: {},
};

const EXAMPLE = 'circle@600:x=0.5,y=0.5,r=0.25';
const LIMITS = { x: [0, 1], y: [0, 1], r: [0, 2], amp: [0, 10] };
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const quote = (text) => `'${text}'`;

// A spec that cannot work; the message is one line for the user.
export class DamageError extends Error {}

// -> {kind, step, params, spec}; throws DamageError.
export function parseDamage(spec) {
  const text = spec.trim();
  const [head, tail] = split(text, ':');
  const [kindText, stepText, at] = split(head, '@');
  const kind = kindText.trim().toLowerCase();
  if (!at) throw new DamageError(`bad damage spec ${quote(spec)}: expected KIND@STEP[:key=value,...], e.g. ${EXAMPLE}`);
  if (!(kind in KINDS)) {
    throw new DamageError(`unknown damage kind ${quote(kind)} in ${quote(spec)}; choose one of ${Object.keys(KINDS).join(', ')}`);
  }
  if (!INTEGER.test(stepText.trim())) {
    throw new DamageError(`bad damage step ${quote(stepText)} in ${quote(spec)}: expected a whole number of steps`);
  }
  const params = { ...KINDS[kind] };
  for (const item of tail.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [keyText, value, eq] = split(item, '=');
    const key = keyText.trim();
    if (!eq || !(key in KINDS[kind])) {
      const known = Object.keys(KINDS[kind]).join(', ') || 'none';
      throw new DamageError(`bad parameter ${quote(item)} for ${kind} in ${quote(spec)}; its parameters: ${known}`);
    }
    params[key] = parseValue(key, value.trim(), spec);
  }
  return { kind, step: Number(stepText), params, spec: text };
}

// Sorted by step (the sort is stable: events at the same step keep the user's order).
export function validateSchedule(damages, steps) {
  for (const d of damages) {
    if (!(d.step >= 1 && d.step < steps)) {
      throw new DamageError(`damage ${d.spec} is at step ${d.step}, outside the run: use a step from 1 to ${steps - 1}`);
    }
  }
  return [...damages].sort((a, b) => a.step - b.step);
}

// Damage the state of `nca` in place. The step count goes on: a schedule's steps stay where they were.
export function applyDamage(nca, { kind, params: p }) {
  const steps = nca.stepCount;
  if (kind === 'circle') nca.paint(p.x, p.y, paintRadius(nca, p.r), 'erase');
  else if (kind === 'noise') {
    const amplitude = nca.noiseAmplitude;
    nca.noiseAmplitude = p.amp;
    nca.paint(p.x, p.y, paintRadius(nca, p.r), 'noise');
    nca.noiseAmplitude = amplitude;
  } else if (kind === 'half') nca.setState(eraseHalf(nca.readState(), nca.width, nca.height, nca.channels, p.side));
  else nca.reset('seed');
  nca.stepCount = steps;
}

// What the damage does, in a few words for a badge.
export function describeDamage({ kind, params: p }) {
  if (kind === 'circle') return p.x === 0.5 && p.y === 0.5 ? 'erasing the centre' : `erasing a disc at ${p.x}, ${p.y}`;
  if (kind === 'half') return `erasing the ${p.side} half`;
  if (kind === 'noise') return 'filling a disc with noise';
  return 'resetting to the seed';
}

// Python's str.partition: [before, after, found].
function split(text, sep) {
  const i = text.indexOf(sep);
  return i < 0 ? [text, '', false] : [text.slice(0, i), text.slice(i + sep.length), true];
}

function parseValue(key, value, spec) {
  if (key === 'side') {
    if (!SIDES.includes(value)) throw new DamageError(`bad side ${quote(value)} in ${quote(spec)}; choose one of ${SIDES.join(', ')}`);
    return value;
  }
  if (!NUMBER.test(value)) throw new DamageError(`bad number ${quote(value)} for ${key} in ${quote(spec)}`);
  const number = Number(value);
  // Fractions of the frame keep a spec meaningful at every grid size.
  const [lo, hi] = LIMITS[key];
  if (!(number >= lo && number <= hi) || (key === 'r' && number === 0)) {
    throw new DamageError(`${key}=${value} in ${quote(spec)} is out of range (${lo}..${hi})`);
  }
  return number;
}

// nca.paint and a spec's r share one convention (a fraction of the shorter side): nothing to convert.
const paintRadius = (nca, r) => r;

// The state (H*W*C, [y][x][c]) with one half back to the seed (zeros), split as `nca record` splits it.
function eraseHalf(state, width, height, channels, side) {
  const inside = {
    left: (x) => x < Math.floor(width / 2),
    right: (x) => x >= Math.floor(width / 2),
    top: (x, y) => y < Math.floor(height / 2),
    bottom: (x, y) => y >= Math.floor(height / 2),
  }[side];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (inside(x, y)) state.fill(0, (y * width + x) * channels, (y * width + x + 1) * channels);
    }
  }
  return state;
}
