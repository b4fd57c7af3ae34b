// address.js: the page's address as settings: `#model=leopard&grid=128&speed=4&zoom=2&angle=90&fire=0.8`,
// plus the painted field's presets: `&field=vortex&fx=0.3&fy=0.6&speedfield=gradient&scalefield=gradient` (field.js's names;
// fx, fy: the direction preset's centre as fractions of the grid, x right, y down).
// Parsing and formatting only, no DOM (ui.js reads and writes location; main.js applies the settings).
//
//   parseAddress('#model=amber&grid=128')   // {model: 'amber', grid: 128}: only the keys given and valid
//   formatAddress({model: 'amber', grid: 128, speed: 'auto', zoom: 1, angle: 0, fire: 0.5}, {fire: 0.5})
//                                           // '#model=amber&grid=128': defaults are left out

import { DIRECTIONS, SCALES, SPEEDS } from './field.js';

// What the page starts with: a setting at its default is not written into the address.
export const DEFAULTS = { grid: 256, speed: 'auto', zoom: 1, angle: 0, field: 'uniform', fx: 0.5, fy: 0.5, speedfield: 'uniform',
  scalefield: 'uniform' };

// key: [parse text -> value or undefined when unusable]; the ranges are the player's.
const number = (text) => (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : undefined);
const within = (lo, hi, integer = false) => (text) => {
  const v = number(text);
  return v !== undefined && v >= lo && v <= hi && (!integer || Number.isInteger(v)) ? v : undefined;
};
const PARSERS = {
  model: (text) => (/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(text) ? text : undefined),
  grid: within(64, 1024, true),
  speed: (text) => (text === 'auto' ? 'auto' : within(0.01, 32)(text) !== undefined ? String(Number(text)) : undefined),
  zoom: within(1, 16),
  angle: within(0, 359, true),
  fire: within(0.01, 1),
  field: (text) => (DIRECTIONS.includes(text) ? text : undefined),
  fx: within(0, 1),
  fy: within(0, 1),
  speedfield: (text) => (SPEEDS.includes(text) ? text : undefined),
  scalefield: (text) => (SCALES.includes(text) ? text : undefined),
};
export const KEYS = Object.keys(PARSERS);

// '#model=x&grid=128' (or without '#') -> {model: 'x', grid: 128}; unknown keys and bad values are dropped.
export function parseAddress(hash) {
  const params = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const settings = {};
  for (const key of KEYS) {
    const text = params.get(key);
    if (text == null) continue;
    const value = PARSERS[key](text.trim());
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

const round = (v, digits) => Number(Number(v).toFixed(digits));

// Settings -> '#model=...&...'; a value equal to its default (DEFAULTS, or `defaults` for those that
// depend on the model, like its own fire rate) is left out, so a fresh page's link is `#model=x`.
export function formatAddress(settings, defaults = {}) {
  const values = written(settings);
  const base = written({ ...DEFAULTS, ...defaults });
  const parts = [];
  for (const key of KEYS) {
    const v = values[key];
    if (v == null || v === '' || (key !== 'model' && v === base[key])) continue;
    parts.push(`${key}=${encodeURIComponent(v)}`);
  }
  return parts.length ? `#${parts.join('&')}` : '';
}

// Each setting as the text the address holds (zoom and fire rate to two decimals).
function written(s) {
  const text = (v, digits) => (v == null ? undefined : String(digits == null ? v : round(v, digits)));
  return {
    model: text(s.model), grid: text(s.grid), speed: text(s.speed), zoom: text(s.zoom, 2),
    angle: text(s.angle), fire: text(s.fire, 2),
    field: text(s.field), fx: text(s.fx, 3), fy: text(s.fy, 3), speedfield: text(s.speedfield),
    scalefield: text(s.scalefield),
  };
}
