// fieldpanel.js: the DOM of the Field panel (index.html #field-panel) and of the field brush modes: the
// direction, speed and scale presets, the graft model menu, Reset field, and which of them can be used now.
// Controls call the `studio` actions main.js binds; syncFieldPanel() reflects the state fields.js keeps.

import { FIELD_BRUSHES, OLD_SCALE_HINT } from './fields.js';

const $ = (id) => document.getElementById(id);

export function bindFieldPanel(studio, fields) {
  $('field-direction').addEventListener('change', (e) => studio.setDirectionField(e.target.value));
  $('field-speed').addEventListener('change', (e) => studio.setSpeedField(e.target.value));
  $('field-scale').addEventListener('change', (e) => studio.setScaleField(e.target.value));
  $('graft-model').addEventListener('change', (e) => { studio.setGraft(e.target.value || null); });
  $('btn-field-reset').addEventListener('click', () => studio.resetField());
  // A refreshed gallery (a model trained or deleted) may change what can be grafted.
  $('gallery').addEventListener('rendered', () => syncFieldPanel(fields, studio.models));
}

let graftMenuKey = '';

// The panel as the state says: presets, graft menu, what is enabled, the old-bundle hint.
export function syncFieldPanel(fields, models = []) {
  const s = fields.state, nca = fields.nca();
  const supported = !nca || !!nca.supportsFields;
  $('field-hint').hidden = supported;
  $('field-controls').disabled = !supported;
  $('btn-field-reset').disabled = !supported;
  $('field-panel').classList.toggle('unsupported', !supported);
  $('field-direction').value = s.field.direction;
  $('field-speed').value = s.field.speed;
  const scale = $('field-scale');
  scale.value = s.field.scale;
  scale.disabled = !!(nca && !nca.supportsScale);
  scale.dataset.title ??= scale.title;  // the page's own title, shown again once the model can scale
  scale.title = scale.disabled ? OLD_SCALE_HINT : scale.dataset.title;
  renderGraftMenu(s, nca, models);
  $('graft-model').value = s.graft ? s.graft.id : '';
  $('graft-model').classList.toggle('loading', !!s.graftLoading);
  for (const radio of document.querySelectorAll('input[name="brush-mode"]')) {
    const mode = radio.value;
    if (!(mode in FIELD_BRUSHES)) continue;
    radio.disabled = !!fields.unavailable(mode);
    radio.parentElement.classList.toggle('disabled', radio.disabled);
  }
}

// "none", then the models that graft well with this one (its grafts_with), then the others of the same
// channel count; those of another channel count are listed disabled.
function renderGraftMenu(s, nca, models) {
  const current = models.find((m) => m.id === s.modelId);
  const channels = nca ? nca.channels : current && current.channels;
  const key = JSON.stringify([s.modelId, channels, s.graft && s.graft.id,
    models.map((m) => [m.id, m.name, m.channels, m.grafts_with])]);
  if (key === graftMenuKey) return;
  graftMenuKey = key;
  const partners = new Set((current && current.grafts_with) || []);
  const others = models.filter((m) => m.id !== s.modelId);
  const good = others.filter((m) => partners.has(m.id) && m.channels === channels);
  const same = others.filter((m) => !partners.has(m.id) && m.channels === channels);
  const differ = others.filter((m) => m.channels !== channels);
  const option = (m, disabled = false) => {
    const o = new Option(disabled ? `${m.name} (${m.channels} ch)` : m.name, m.id);
    o.disabled = disabled;
    return o;
  };
  const group = (label, items, disabled = false) => {
    const g = document.createElement('optgroup');
    g.label = label;
    g.append(...items.map((m) => option(m, disabled)));
    return items.length ? g : null;
  };
  const menu = $('graft-model');
  menu.replaceChildren(new Option('none', ''),
    ...[group('grafts well', good), group(good.length ? 'same channels' : `${channels ?? '?'} channels`, same),
      group('other channel counts', differ, true)].filter(Boolean));
  // A graft that is not in the gallery (any more) still shows as chosen.
  if (s.graft && !models.some((m) => m.id === s.graft.id)) menu.append(new Option(s.graft.name, s.graft.id));
}
