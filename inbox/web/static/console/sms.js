// @ts-check
// SMS in the console: the reply box's live segment count (lib/sms_segments.js, the server's
// rule) and a warning above the program's limit that asks for a second click. The banner for a
// consulter who texted STOP is console/optout.js (shared with LINE), why a reply failed is
// console/failure.js.

import { t } from "../i18n.js";
import { byId } from "../lib/dom.js";
import { countSegments } from "../lib/sms_segments.js";
import { state, els } from "./state.js";
import { call } from "./session.js";
import { optedOut } from "./optout.js";

/** @typedef {{enabled: boolean, max_segments: number}} SmsSettings */

/** @type {SmsSettings} */
let settings = { enabled: false, max_segments: 5 };
/** The text she was warned about and may now send with a second click; null: not warned. */
let armed = /** @type {string | null} */ (null);
/** @type {{count: HTMLElement, warning: HTMLElement} | null} */
let parts = null;

/** The program's SMS settings, from GET /api/me (for the limit). */
export async function loadSms() {
  const data = await call("GET", "/api/me");
  if (data && data.sms) settings = data.sms;
  renderSms();
}

export function resetSms() {
  settings = { enabled: false, max_segments: 5 };
  armed = null;
  renderSms();
}

function smsOpen() {
  const c = state.conv;
  return !!c && c.channel === "sms" && c.status !== "closed";
}

/** @param {{encoding: string, count: number, perSegment: number}} s */
function countText(s) {
  const encoding = s.encoding === "gsm7" ? "GSM-7" : "UCS-2";
  const key = s.count === 1 ? "sms.segments.one" : "sms.segments";
  return t(key, { n: s.count, encoding, per: s.perSegment });
}

/** Show the count and the warning as the box and the conversation are now. */
export function renderSms() {
  if (!parts) return;
  const note = els.noteToggle.checked;
  const body = els.replyInput.value;
  const counting = smsOpen() && !note && !optedOut(); // nothing to count when it cannot go
  const s = countSegments(body);
  if (armed !== null && armed !== body) armed = null;
  parts.count.hidden = !counting;
  parts.count.textContent = counting ? countText(s) : "";
  const over = counting && s.count > settings.max_segments;
  parts.count.classList.toggle("is-over", over);
  parts.warning.hidden = !over;
  parts.warning.textContent = over
    ? t(armed === null ? "sms.overLimit" : "sms.overLimitArmed", { n: s.count, max: settings.max_segments })
    : "";
}

/**
 * Whether this reply may go now: never to a consulter who opted out; above the segment limit
 * only on the second click for the same text (the first shows the warning).
 * @param {string} body
 */
export function smsMaySend(body) {
  if (!smsOpen()) return true;
  if (optedOut()) return false;
  if (countSegments(body).count <= settings.max_segments || armed === body) {
    armed = null;
    return true;
  }
  armed = body;
  renderSms();
  return false;
}

export function bindSms() {
  parts = {
    count: byId("sms-count", HTMLElement),
    warning: byId("sms-warning", HTMLElement),
  };
  els.replyInput.addEventListener("input", renderSms);
  els.noteToggle.addEventListener("change", renderSms);
}
