// @ts-check
// What her chat says above the conversation: the web chat's hours and next opening, where she
// stands (her own words for each state, at every screen width), and, once her conversation was
// closed, that it ended and how to reach the service again.

import { state, els } from "./state.js";
import { hoursText, standingText, againText } from "./service.js";
import { isNearBottom, scrollToBottom } from "./view.js";

/** @param {import("./service.js").Hours | null} hours */
export function setHours(hours) {
  if (hours) state.hours = hours;
  renderInfo();
}

/** @param {import("./service.js").Standing} standing */
export function setStanding(standing) {
  const endsNow = standing.state === "closed" && state.standing?.state !== "closed";
  const follow = isNearBottom();
  state.standing = standing;
  if (standing.hours) state.hours = standing.hours;
  renderInfo();
  if (endsNow && follow) scrollToBottom(); // the notice goes below the last message: in view
}

/** (Re-)render the hours, her standing and the ended notice (also after a language switch). */
export function renderInfo() {
  const hours = state.hours;
  els.hours.textContent = hours ? hoursText(hours) : "";
  els.hours.hidden = !hours;
  const standing = state.standing ?? (hours ? { state: "none", position: null, wait_s: null, hours } : null);
  const text = standing ? standingText(standing) : "";
  els.queueText.textContent = text;
  els.queueText.hidden = !text;
  els.queueText.dataset.state = standing ? standing.state : "";
  const ended = standing?.state === "closed";
  els.ended.hidden = !ended;
  els.endedAgain.textContent = ended ? againText(hours) : "";
}
