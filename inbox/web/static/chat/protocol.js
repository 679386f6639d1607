// @ts-check
// The chat's socket protocol over /chat/ws: hello (with the token, to resume) -> welcome (the
// latest page of history); message -> ack | error (busy and rate_limited: retried later with the
// same client_id); history (older pages, on request); queue_status (where she stands: in the
// welcome, when she asks, after her message, when a data-less status_changed nudge says it
// changed, and slowly while she waits); lang (the language her chat is set to, so automatic
// replies come in it alone); message (replies, each with its time, automatic ones marked);
// typing (her counselor is writing: together.js) and read (sent by together.js: how far she has
// read, while the page is visible); survey (her answer to the survey's buttons: survey.js).

import { t, getLang } from "../i18n.js";
import { LiveSocket } from "../lib/live.js";
import { state, els } from "./state.js";
import { TOKEN_KEY, storeGet, storeSet, savePending } from "./storage.js";
import {
  setStatus,
  updateEmpty,
  isNearBottom,
  scrollToBottom,
  viewOf,
  renderMeta,
  createMessageEl,
  insertServerMessage,
  insertQuietly,
  clearServerMessages,
  oldestShownId,
  renderEarlier,
  showBanner,
  markConversations,
} from "./view.js";
import { onTyping, hideTyping, reportRead } from "./together.js";
import { setStanding } from "./info.js";
import { onSurveyAnswer } from "./survey.js";

const BUSY_RETRY_MIN_MS = 2000;
const BUSY_RETRY_MAX_MS = 30000;
// While she waits, where she stands is asked again this often (her place moves, hours begin).
const STANDING_REFRESH_MS = 90000;
const ASK_AFTER_MS = 800; // after her message: one question for a burst of messages
const NUDGE_SPREAD_MS = 2000; // a status_changed nudge is answered within this, at random

/** @typedef {import("./state.js").Pending} Pending */
/** @typedef {import("./storage.js").StoredPending} StoredPending */

export const live = new LiveSocket({
  path: "/chat/ws",
  handshake: true, // connected once the welcome is in
  onState: setStatus,
  onOpen: () => {
    state.sentToken = storeGet(TOKEN_KEY) || null;
    live.send({ type: "hello", token: state.sentToken, lang: getLang() });
  },
  onMessage: handle,
  onClose: () => {
    state.ready = false;
    state.loadingOlder = false; // unanswered: she may ask again once reconnected
    renderEarlier();
    for (const rec of state.pending.values()) clearTimeout(rec.retryTimer);
  },
});

/** Keep the unacknowledged messages on this device. */
export function persistPending() {
  savePending(
    [...state.pending.values()].map((p) => ({ client_id: p.client_id, body: p.body, created_at: p.created_at })),
  );
}

/** Send it now if the session is ready (else the next welcome does). @param {Pending} rec */
export function sendPending(rec) {
  if (!state.ready) return;
  live.send({ type: "message", client_id: rec.client_id, body: rec.body });
}

/** Show a message as being sent and keep it until it is acknowledged. @param {StoredPending} stored */
export function addPending(stored) {
  const li = createMessageEl({ direction: "inbound", body: stored.body, created_at: stored.created_at, state: "sending" });
  li.dataset.clientId = stored.client_id;
  /** @type {Pending} */
  const rec = { ...stored, li, retryDelay: 0, retryTimer: undefined };
  state.pending.set(rec.client_id, rec);
  els.list.append(li);
  updateEmpty();
  return rec;
}

/** Send a message she wrote (kept until acknowledged, resent after a reconnect). @param {string} body */
export function sendNew(body) {
  const rec = addPending({ client_id: newClientId(), body, created_at: new Date().toISOString() });
  persistPending();
  return rec;
}

/** Ask for the page of history before the oldest message shown. */
export function loadEarlier() {
  const before = oldestShownId();
  if (state.loadingOlder || before === null || !state.ready) return;
  if (!live.send({ type: "history", before })) return;
  state.loadingOlder = true;
  renderEarlier();
}

/** Ask where she stands (answered once; the server pushes only a data-less nudge). */
export function askQueueStatus() {
  clearTimeout(askTimer);
  askTimer = undefined;
  if (state.ready) live.send({ type: "queue_status" });
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let nudgeTimer;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let askTimer;
/** @type {ReturnType<typeof setInterval> | undefined} */
let refreshTimer;

function askSoon() {
  clearTimeout(askTimer);
  askTimer = setTimeout(askQueueStatus, ASK_AFTER_MS);
}

/** Ask again now and then while she waits; not once someone is with her or it ended. */
function keepAsking() {
  const waiting = ["queued", "paused", "outside_hours"].includes(state.standing?.state ?? "");
  const closedNow = state.standing?.state === "none" && state.hours && !state.hours.open_now;
  if ((waiting || closedNow) && refreshTimer === undefined) {
    refreshTimer = setInterval(askQueueStatus, STANDING_REFRESH_MS);
  } else if (!waiting && !closedNow && refreshTimer !== undefined) {
    clearInterval(refreshTimer);
    refreshTimer = undefined;
  }
}

/** @param {any} msg */
function onStanding(msg) {
  if (!msg || typeof msg.state !== "string") return;
  setStanding(msg);
  keepAsking();
}

/** Her chat's language changed: automatic replies from now on come in it. */
export function sayLanguage() {
  live.send({ type: "lang", lang: getLang() });
}

function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  // Non-secure contexts (plain http on a LAN address) have no randomUUID; build a v4 UUID by hand.
  const b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** @param {any} msg */
function onWelcome(msg) {
  if (typeof msg.token === "string" && msg.token) {
    if (state.sentToken && msg.token !== state.sentToken) clearServerMessages(); // a different (new) session
    storeSet(TOKEN_KEY, msg.token);
  }
  const follow = isNearBottom() || state.byId.size === 0;
  const messages = Array.isArray(msg.messages) ? msg.messages : [];
  const oldest = oldestShownId();
  // A reconnect's welcome repeats the latest page; older pages she loaded stay, and so does
  // whether there are more before them.
  if (oldest === null || messages.length === 0 || Number(messages[0].id) <= oldest) {
    state.hasOlder = Boolean(msg.more);
  }
  state.loadingOlder = false;
  // Add history quietly; aria-live should announce new messages, not the whole backlog.
  insertQuietly(messages);
  onStanding(msg.status);
  // the welcome leaves out her place in line (it is costly to work out): ask for it
  if (msg.status && msg.status.state === "queued") askSoon();
  state.ready = true;
  live.established();
  renderEarlier();
  showBanner("");
  if (follow) scrollToBottom();
  reportRead();
  for (const rec of state.pending.values()) {
    const v = viewOf(rec.li);
    v.retrying = false;
    rec.retryDelay = 0;
    renderMeta(rec.li);
    sendPending(rec);
  }
}

/** @param {any} msg */
function onAck(msg) {
  const rec = state.pending.get(msg.client_id);
  if (!rec) return;
  clearTimeout(rec.retryTimer);
  state.pending.delete(msg.client_id);
  persistPending();
  const id = Number(msg.message_id);
  if (state.byId.has(id)) {
    // Already shown from history (stored before a reconnect): drop the local copy.
    rec.li.remove();
    updateEmpty();
    return;
  }
  const v = viewOf(rec.li);
  v.state = "sent";
  v.retrying = false;
  rec.li.dataset.id = String(id);
  if (typeof msg.conversation === "number") rec.li.dataset.conversation = String(msg.conversation);
  delete rec.li.dataset.clientId;
  state.byId.set(id, rec.li);
  renderMeta(rec.li);
  markConversations();
  askSoon(); // she wrote: where does she stand now (a new conversation, if the last had ended)
}

/** @param {any} msg */
function onError(msg) {
  const rec = msg.client_id ? state.pending.get(msg.client_id) : null;
  if (!rec) {
    if (state.loadingOlder) {
      state.loadingOlder = false; // the page she asked for was refused; the button stays
      renderEarlier();
    }
    // In her language, never the server's (English, technical) text.
    /** @type {Record<string, string>} */
    const banner = { rate_limited: "chat.error.tooMany", validation: "chat.error.validation" };
    showBanner(t(banner[msg.code] || "chat.error.generic"));
    return;
  }
  const v = viewOf(rec.li);
  if (msg.code === "busy" || msg.code === "rate_limited") {
    // Keep it pending and try again later with the same client_id.
    clearTimeout(rec.retryTimer);
    rec.retryDelay = Math.min(BUSY_RETRY_MAX_MS, rec.retryDelay ? rec.retryDelay * 2 : BUSY_RETRY_MIN_MS);
    const delay = rec.retryDelay * (0.8 + Math.random() * 0.4);
    rec.retryTimer = setTimeout(() => sendPending(rec), delay);
    v.retrying = true;
    v.retryCode = msg.code;
    renderMeta(rec.li);
    return;
  }
  // validation, too_large, or anything else: it will not succeed as it is.
  clearTimeout(rec.retryTimer);
  state.pending.delete(rec.client_id);
  persistPending();
  delete rec.li.dataset.clientId;
  v.state = "failed";
  v.retrying = false;
  v.error = msg.message || "";
  v.errorCode = msg.code || "";
  renderMeta(rec.li);
}

/** @param {any} msg */
function onHistory(msg) {
  const wasLoading = state.loadingOlder;
  state.loadingOlder = false;
  const messages = Array.isArray(msg.messages) ? msg.messages : [];
  // Keep what she was reading in place while older messages go in above it.
  const fromBottom = els.scroller.scrollHeight - els.scroller.scrollTop;
  insertQuietly(messages);
  els.scroller.scrollTop = els.scroller.scrollHeight - fromBottom;
  state.hasOlder = Boolean(msg.more);
  renderEarlier();
  // The button disappears after the last page: keep the keyboard focus near, on the list.
  if (wasLoading && !state.hasOlder && document.activeElement === document.body) els.list.focus();
}

/** @param {any} msg */
function handle(msg) {
  switch (msg && msg.type) {
    case "welcome":
      onWelcome(msg);
      break;
    case "ack":
      onAck(msg);
      break;
    case "history":
      onHistory(msg);
      break;
    case "error":
      onError(msg);
      break;
    case "queue_status":
      onStanding(msg);
      break;
    case "status_changed":
      // A channel paused or resumed nudges every open chat at once: spread the questions over
      // a few seconds, as each answer reads the routing picture.
      clearTimeout(nudgeTimer);
      nudgeTimer = setTimeout(askQueueStatus, Math.random() * NUDGE_SPREAD_MS);
      break;
    case "message": {
      const follow = isNearBottom();
      const li = insertServerMessage(msg.message);
      if (li && follow) scrollToBottom();
      hideTyping(); // her counselor's reply is here
      reportRead();
      // a person answered: someone is with her now
      if (li && msg.message && !msg.message.automatic && state.standing?.state !== "with_counselor") askQueueStatus();
      break;
    }
    case "typing":
      onTyping(msg);
      break;
    case "survey":
      onSurveyAnswer(msg);
      break;
    default:
      break;
  }
}
