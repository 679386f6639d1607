// @ts-check
// The chat's state in one typed object, its message maps, and the page's elements.

import { byId, query } from "../lib/dom.js";

/**
 * A message not yet acknowledged, with its bubble and its retry timer.
 * @typedef {object} Pending
 * @property {string} client_id
 * @property {string} body
 * @property {string} [created_at]
 * @property {HTMLLIElement} li
 * @property {number} retryDelay ms; 0 before the first "busy"
 * @property {ReturnType<typeof setTimeout> | undefined} retryTimer
 */

/**
 * What a bubble shows besides its text, kept to re-render its meta line.
 * @typedef {object} MessageView
 * @property {string} direction inbound (hers) | outbound (the counselor's)
 * @property {string | undefined | null} created_at
 * @property {"sending" | "sent" | "failed"} state
 * @property {HTMLElement} who
 * @property {HTMLTimeElement} time
 * @property {HTMLElement} stateEl
 * @property {HTMLElement} errorEl
 * @property {HTMLButtonElement} editBtn
 * @property {boolean} retrying
 * @property {string} [retryCode]
 * @property {string} [error]
 * @property {string} [errorCode]
 * @property {boolean} [automatic] no person wrote it (an auto-reply, the safety message)
 */

/** @typedef {"connecting" | "reconnecting" | "connected"} ChatConnState */

/**
 * @typedef {object} ChatState
 * @property {boolean} ready true between "welcome" and close
 * @property {string | null} sentToken the token the last hello carried
 * @property {ChatConnState} connState
 * @property {boolean} hasOlder older history exists (the welcome brings the latest page)
 * @property {boolean} loadingOlder an older page was asked for
 * @property {Map<string, Pending>} pending client_id -> message not yet acknowledged
 * @property {Map<number, HTMLLIElement>} byId server message id -> its bubble
 * @property {WeakMap<Element, MessageView>} view bubble -> what renders its meta line
 * @property {import("./service.js").Standing | null} standing where she stands, as last told
 * @property {import("./service.js").Hours | null} hours the web chat's hours, as last told
 * @property {string} exitUrl where quick exit goes
 */

/** @type {ChatState} */
export const state = {
  ready: false,
  sentToken: null,
  connState: "connecting",
  hasOlder: false,
  loadingOlder: false,
  pending: new Map(),
  byId: new Map(),
  view: new WeakMap(),
  standing: null,
  hours: null,
  exitUrl: "",
};

function findElements() {
  const status = byId("chat-status", HTMLElement);
  return {
    list: byId("chat-messages", HTMLOListElement),
    scroller: query(document, ".chat-main", HTMLElement),
    empty: byId("chat-empty", HTMLElement),
    banner: byId("chat-banner", HTMLElement),
    status,
    statusText: query(status, ".conn-text", HTMLElement),
    langToggle: byId("lang-toggle", HTMLButtonElement),
    form: byId("composer", HTMLFormElement),
    input: byId("chat-input", HTMLTextAreaElement),
    send: byId("chat-send", HTMLButtonElement),
    counter: byId("chat-counter", HTMLElement),
    queueStatus: byId("queue-status", HTMLButtonElement),
    queueText: byId("queue-status-text", HTMLElement),
    quickExit: byId("quick-exit", HTMLButtonElement),
    clearBtn: byId("clear-history", HTMLButtonElement),
    clearConfirm: byId("clear-confirm", HTMLElement),
    clearYes: byId("clear-yes", HTMLButtonElement),
    clearNo: byId("clear-no", HTMLButtonElement),
    earlier: byId("chat-earlier", HTMLButtonElement),
    hours: byId("chat-hours", HTMLElement),
    ended: byId("chat-ended", HTMLElement),
    endedAgain: byId("chat-ended-again", HTMLElement),
    keep: byId("keep-on-device", HTMLInputElement),
  };
}

/** @typedef {ReturnType<typeof findElements>} ChatElements */

/** The page's elements; filled by bindElements() at boot. */
export const els = /** @type {ChatElements} */ ({});

export function bindElements() {
  Object.assign(els, findElements());
}
