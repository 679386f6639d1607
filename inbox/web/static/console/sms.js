// @ts-check
// SMS in the console: the reply box's live segment count (lib/sms_segments.js, the server's
// rule), a warning above the program's limit that asks for a second click, the banner for a
// consulter who texted STOP (no reply can be sent), and why a reply failed, in words.

import { t } from "../i18n.js";
import { byId } from "../lib/dom.js";
import { countSegments } from "../lib/sms_segments.js";
import { state, els } from "./state.js";
import { call } from "./session.js";

/** @typedef {{enabled: boolean, max_segments: number}} SmsSettings */

/** @type {SmsSettings} */
let settings = { enabled: false, max_segments: 5 };
/** The text she was warned about and may now send with a second click; null: not warned. */
let armed = /** @type {string | null} */ (null);
/** The send button is disabled because she opted out (and by nothing else of this module). */
let heldBack = false;
/** @type {{count: HTMLElement, warning: HTMLElement, optout: HTMLElement} | null} */
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

/** She opted out: a reply (not a note) cannot be sent. */
function optedOut() {
  return smsOpen() && !!state.conv && state.conv.opted_out === true;
}

/** @param {{encoding: string, count: number, perSegment: number}} s */
function countText(s) {
  const encoding = s.encoding === "gsm7" ? "GSM-7" : "UCS-2";
  const key = s.count === 1 ? "sms.segments.one" : "sms.segments";
  return t(key, { n: s.count, encoding, per: s.perSegment });
}

/** Show the count, the warning and the banner as the box and the conversation are now. */
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
  const stopped = optedOut();
  parts.optout.hidden = !stopped;
  parts.optout.textContent = stopped ? t("sms.optedOut") : "";
  els.replyForm.classList.toggle("is-opted-out", stopped);
  if (stopped && !note) {
    els.replySend.disabled = true;
    heldBack = true;
  } else if (heldBack) {
    els.replySend.disabled = state.sending; // give back only what this module took
    heldBack = false;
  }
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

/**
 * Why a reply was not delivered, in the console's words where the reason is known.
 * @param {string} reason the outbox's text, e.g. "[sms] twilio 21610: ..." or "opted_out: ..."
 */
export function failureText(reason) {
  if (reason.startsWith("opted_out:")) return t("sms.failure.opted_out");
  // Twilio's permanent refusals come as "twilio <code>: <reason>" (inbox.core.sms
  // PERMANENT_ERROR_CODES, the one list): shown in her words when i18n has the code's,
  // else as the server wrote it (t() answers an unknown key with the key itself).
  const code = /twilio (\d+)/.exec(reason);
  if (!code) return reason;
  const key = `sms.failure.${code[1]}`;
  const words = t(key);
  return words === key ? reason : words;
}

export function bindSms() {
  parts = {
    count: byId("sms-count", HTMLElement),
    warning: byId("sms-warning", HTMLElement),
    optout: byId("sms-optout", HTMLElement),
  };
  els.replyInput.addEventListener("input", renderSms);
  els.noteToggle.addEventListener("change", renderSms);
}
