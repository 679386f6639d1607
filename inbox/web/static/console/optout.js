// @ts-check
// A consulter the program cannot reach on her channel: she texted STOP (SMS) or blocked the
// official account (LINE). The server says so (conversation.opted_out, inbox/web/api.py
// OPT_OUT_CHANNELS); here the banner above the reply box says it in the channel's words and the
// send button stays off for a reply, not for a note to the team. One module for every channel
// with an opt-out, so SMS and LINE cannot drift apart.

import { t } from "../i18n.js";
import { byId } from "../lib/dom.js";
import { state, els } from "./state.js";

/** The banner's words per channel that has an opt-out (the server's OPT_OUT_CHANNELS). */
const BANNER = /** @type {Record<string, string>} */ ({ sms: "sms.optedOut", line: "line.optedOut" });

/** The send button is disabled because she opted out (and by nothing else of this module). */
let heldBack = false;
/** @type {HTMLElement | null} */
let banner = null;

/** She cannot be reached on the open conversation's channel: a reply (not a note) cannot go. */
export function optedOut() {
  const c = state.conv;
  return !!c && c.status !== "closed" && Object.hasOwn(BANNER, c.channel) && c.opted_out === true;
}

/** Show the banner and hold the send button back as the conversation and the box are now. */
export function renderOptOut() {
  if (!banner) return;
  const c = state.conv;
  const stopped = optedOut();
  banner.hidden = !stopped;
  banner.textContent = stopped && c ? t(BANNER[c.channel]) : "";
  banner.dataset.channel = stopped && c ? c.channel : "";
  els.replyForm.classList.toggle("is-opted-out", stopped);
  if (stopped && !els.noteToggle.checked) {
    els.replySend.disabled = true;
    heldBack = true;
  } else if (heldBack) {
    els.replySend.disabled = state.sending; // give back only what this module took
    heldBack = false;
  }
}

/** Whether a reply may go now: never to a consulter who opted out. */
export function optOutMaySend() {
  return !optedOut();
}

export function bindOptOut() {
  banner = byId("optout-banner", HTMLElement);
  els.noteToggle.addEventListener("change", renderOptOut);
}
