// @ts-check
// "A counselor is typing…" while her counselor writes, and telling the server how far she has
// read (only while the page is visible), so that her counselor sees her replies marked read.
// The indicator is a polite status line, always in the page and empty when no one types, worded
// once when it appears (a renewal says nothing new), and emptied when the signal lapses or the
// reply arrives.

import { t } from "../i18n.js";
import { el } from "../lib/dom.js";
import { state, els } from "./state.js";
import { viewOf } from "./view.js";

/** @type {HTMLElement} */
let line;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let expiry;
let lastReadSent = 0;
/** @type {(frame: unknown) => boolean} */
let send = () => false;

/** A typing frame from the server: {active, ttl_s}. @param {any} msg */
export function onTyping(msg) {
  clearTimeout(expiry);
  if (!msg.active) {
    hideTyping();
    return;
  }
  // Worded once when it appears: a renewal changes nothing, so a screen reader hears it once.
  if (!line.textContent) line.textContent = t("chat.typing");
  expiry = setTimeout(hideTyping, (Number(msg.ttl_s) || 6) * 1000);
}

/** Her counselor's reply arrived (or the session changed): no one is typing now. */
export function hideTyping() {
  clearTimeout(expiry);
  line.textContent = "";
}

/** The latest counselor's message shown on her page, or 0. */
function latestOutbound() {
  let latest = 0;
  for (const [id, li] of state.byId) {
    if (id > latest && viewOf(li).direction === "outbound") latest = id;
  }
  return latest;
}

/** Tell the server she has seen what the page shows, when it shows something new and she can see it. */
export function reportRead() {
  if (document.visibilityState !== "visible" || !state.ready) return;
  const latest = latestOutbound();
  if (latest <= lastReadSent) return;
  if (send({ type: "read", message_id: latest })) lastReadSent = latest;
}

/** A new session (cleared history): nothing read yet. */
export function resetReading() {
  lastReadSent = 0;
  hideTyping();
}

export function renderTyping() {
  if (line.textContent) line.textContent = t("chat.typing");
}

/** @param {(frame: unknown) => boolean} sender the socket's send */
export function bindTogether(sender) {
  send = sender;
  line = el("p", "chat-typing");
  line.id = "chat-typing";
  line.dataset.testid = "chat-typing";
  line.setAttribute("role", "status");
  line.setAttribute("aria-live", "polite"); // present (empty) from the start, so its news is read
  els.banner.before(line);
  document.addEventListener("visibilitychange", reportRead);
}
