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

/** @typedef {import("./types.js").FeedEvent} FeedEvent */

/** Whether an event of the feed is about the conversation open on screen. @param {FeedEvent | null} evt */
function concernsOpen(evt) {
  if (!evt || evt.conversation_id === undefined || evt.conversation_id === null) return false;
  return String(evt.conversation_id) === String(state.openId);
}

/** @param {any} msg */
function onFrame(msg) {
  if (!msg || msg.type !== "events" || !Array.isArray(msg.events)) return;
  refreshQueue();
  if (state.openId !== null && msg.events.some(concernsOpen)) refreshOpen();
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
  onState: setConn,
  onMessage: onFrame,
  onReconnected: () => {
    refreshQueue();
    refreshOpen();
  },
  beforeReconnect: sessionStillValid,
});

export function startLive() {
  live.start();
}

export function stopLive() {
  live.stop();
}
