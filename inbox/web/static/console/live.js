// @ts-check
// Live updates over /api/ws: one frame per round of events ({type: "events", events: [...]},
// ids and kinds only); the console refetches what they concern, once per frame, and everything
// after a reconnect (events may have been missed meanwhile).

import { api, ApiError } from "../lib/api.js";
import { LiveSocket } from "../lib/live.js";
import { state } from "./state.js";
import { setConn } from "./header.js";
import { endSession } from "./session.js";
import { refreshQueue } from "./queue.js";
import { refreshOpen } from "./conversation.js";
import { concernsDesk, refreshDesk } from "./desk.js";
import { cannedChanged } from "./canned_editor.js";
import { noteEvents } from "./urgency.js";

/** @typedef {import("./types.js").FeedEvent} FeedEvent */

/** Whether an event of the feed is about the conversation open on screen. @param {FeedEvent | null} evt */
function concernsOpen(evt) {
  if (!evt || evt.conversation_id === undefined || evt.conversation_id === null) return false;
  return String(evt.conversation_id) === String(state.openId);
}

/** @type {Set<(msg: any) => void>} */
const frameListeners = new Set();
/** @type {Set<() => void>} */
const connectedListeners = new Set();

/** `fn` gets every frame, parsed (other modules' frames: viewers, ...). @param {(msg: any) => void} fn */
export function onLiveFrame(fn) {
  frameListeners.add(fn);
}

/** `fn` runs each time the socket is connected (first time and after a loss). @param {() => void} fn */
export function onLiveConnected(fn) {
  connectedListeners.add(fn);
}

/** Send a frame to the server; false when the socket is not open. @param {unknown} frame */
export function sendLive(frame) {
  return live.send(frame);
}

// Events that change nothing the queue shows: a frame of only these does not refetch it (every
// console would, once per consulter's read receipt).
/** @param {FeedEvent} e */
const leavesQueue = (e) =>
  e.kind === "consulter_read" || /^(canned_reply_|referral_|agenc)/.test(String(e.kind)); // casework: not in the queue

/** @param {any} msg */
function onFrame(msg) {
  if (msg) for (const fn of frameListeners) fn(msg);
  if (!msg || msg.type !== "events" || !Array.isArray(msg.events)) return;
  noteEvents(msg.events); // banners are decided once the queue below is fetched
  if (!msg.events.every(leavesQueue)) refreshQueue();
  if (state.openId !== null && msg.events.some(concernsOpen)) refreshOpen();
  // --- desk: her load may have changed; a canned reply may have
  if (concernsDesk(msg.events)) refreshDesk();
  if (msg.events.some((/** @type {FeedEvent} */ e) => String(e.kind).startsWith("canned_reply_"))) cannedChanged();
}

/** A socket refused for a dead session would just loop: ask the server who we are first. */
async function sessionStillValid() {
  try {
    await api("GET", "/api/me");
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      endSession("login.expired");
      return false;
    }
    throw e; // server unreachable: keep backing off
  }
}

const live = new LiveSocket({
  path: "/api/ws",
  onState: (s) => {
    setConn(s);
    if (s === "connected") for (const fn of connectedListeners) fn();
  },
  onMessage: onFrame,
  // a supervisor's socket is pushed the board (/board) too; the console shows none of it
  onOpen: () => live.send({ type: "board", watch: false }),
  onReconnected: () => {
    refreshQueue();
    refreshOpen();
    refreshDesk();
  },
  beforeReconnect: sessionStillValid,
});

export function startLive() {
  live.start();
}

export function stopLive() {
  live.stop();
}
