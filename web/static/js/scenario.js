// scenario.js: the growth-and-repair script: reset, grow, damage, regrow, played on the canvas.
// Its damage is written in the spec language of `nca record --damage` (damage.js), so its video
// is either the server's render of exactly this script (state.videoFormat 'mp4': the same steps,
// specs and pace through `nca record`) or the canvas recorded in the browser ('webm').

import { applyDamage, describeDamage, parseDamage, validateSchedule } from './damage.js';
import * as ui from './ui.js';

// A fixed number of steps per frame makes the video's pace the same on every machine.
export const SCENARIO = { steps: 480, damage: ['circle@240:r=0.2'], stepsPerFrame: 2 };

export async function runScenario({ state, player, recorder, changed }, scenario = SCENARIO) {
  if (state.scenario || !player.nca) return;
  const events = validateSchedule(scenario.damage.map(parseDamage), scenario.steps);
  const phase = (text) => { state.scenario = text; ui.showScenario(text); changed(); };
  const server = !state.recording && recorder.serverRenders();
  const video = server ? recorder.render({
    steps: scenario.steps, stepsPerFrame: scenario.stepsPerFrame, damage: scenario.damage, label: 'growth & repair',
  }) : null;
  const ownRecording = !server && !state.recording && recorder.start();
  try {
    player.nca.reset('seed');
    player.holdSpeed(scenario.stepsPerFrame);
    player.play();
    let at = 0;
    for (const damage of events) {
      phase(`${at ? 'repairing' : 'growing'} ${damage.step - at} steps`);
      await player.waitForStep(damage.step);
      phase(describeDamage(damage));
      applyDamage(player.nca, damage);
      player.draw();
      at = damage.step;
    }
    phase(`${at ? 'repairing' : 'growing'} ${scenario.steps - at} steps`);
    await player.waitForStep(scenario.steps);
  } finally {
    player.holdSpeed(null);
    state.scenario = null;
    ui.showScenario(null);
    if (ownRecording) await recorder.stop();
    changed();
  }
  if (video) await video;
}
