// @ts-check
// The console's whole state, in one typed object, and the page's elements, found once at boot.

import { byId, query } from "../lib/dom.js";

/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").Conversation} Conversation */
/** @typedef {import("./types.js").Message} Message */
/** @typedef {"offline" | "connecting" | "reconnecting" | "connected"} ConnState */

/**
 * @typedef {object} Draft
 * @property {string} text
 * @property {boolean} note
 */

/**
 * @typedef {object} ConsoleState
 * @property {User | null} me the signed-in staff member; null when signed out
 * @property {Conversation[]} conversations the queue, as last fetched
 * @property {string} filter the queue filter: all | mine | unassigned
 * @property {number | null} openId the conversation open on screen
 * @property {Conversation | null} conv its record, as last fetched
 * @property {Map<string, HTMLLIElement>} messageEls message id -> its li (open conversation)
 * @property {Map<string, Message>} messageData message id -> the message last rendered
 * @property {boolean} pendingFresh the open conversation has not been rendered yet
 * @property {Map<number, Draft>} drafts conversation id -> the unsent text
 * @property {number} loadSeq bumped per conversation fetch: a late answer is dropped
 * @property {boolean} sending a reply or note is on its way
 * @property {ConnState} connState the live connection, as shown
 * @property {ReturnType<typeof setInterval> | undefined} tickTimer keeps waiting times current
 */

/** @type {ConsoleState} */
export const state = {
  me: null,
  conversations: [],
  filter: "all",
  openId: null,
  conv: null,
  messageEls: new Map(),
  messageData: new Map(),
  pendingFresh: false,
  drafts: new Map(),
  loadSeq: 0,
  sending: false,
  connState: "offline",
  tickTimer: undefined,
};

/** Whether the conversation is assigned to the signed-in staff member. @param {Conversation} conv */
export function isMine(conv) {
  return (
    !!state.me &&
    conv.assignee_id !== null &&
    conv.assignee_id !== undefined &&
    String(conv.assignee_id) === String(state.me.id)
  );
}

/** The page's elements, by what they are for. */
function findElements() {
  const status = byId("console-status", HTMLElement);
  return {
    status,
    statusText: query(status, ".conn-text", HTMLElement),
    userBox: byId("user-box", HTMLElement),
    staffNav: byId("staff-nav", HTMLElement),
    userName: byId("user-name", HTMLElement),
    userRoles: byId("user-roles", HTMLElement),
    langToggle: byId("lang-toggle", HTMLButtonElement),
    signout: byId("signout", HTMLButtonElement),
    toast: byId("toast", HTMLElement),
    toastText: byId("toast-text", HTMLElement),
    toastClose: byId("toast-close", HTMLButtonElement),
    alertControls: byId("alert-controls", HTMLElement),
    notifyButton: byId("notify-button", HTMLButtonElement),
    soundToggle: byId("sound-toggle", HTMLInputElement),
    urgentBanners: byId("urgent-banners", HTMLElement),
    loginView: byId("login-view", HTMLElement),
    loginForm: byId("login-form", HTMLFormElement),
    loginInfo: byId("login-info", HTMLElement),
    loginUsername: byId("login-username", HTMLInputElement),
    loginPassword: byId("login-password", HTMLInputElement),
    loginError: byId("login-error", HTMLElement),
    loginSubmit: byId("login-submit", HTMLButtonElement),
    // --- accounts: her own password, after signing in with one an admin set
    passwordForm: byId("password-form", HTMLFormElement),
    passwordUsername: byId("password-username", HTMLInputElement),
    passwordNew: byId("password-new", HTMLInputElement),
    passwordRepeat: byId("password-repeat", HTMLInputElement),
    passwordRule: byId("password-rule", HTMLElement),
    passwordError: byId("password-error", HTMLElement),
    passwordSubmit: byId("password-submit", HTMLButtonElement),
    passwordSignout: byId("password-signout", HTMLButtonElement),
    appView: byId("app-view", HTMLElement),
    queue: byId("queue", HTMLUListElement),
    queueEmpty: byId("queue-empty", HTMLElement),
    queueCount: byId("queue-count", HTMLElement),
    queueFilter: byId("queue-filter", HTMLSelectElement),
    queueRefresh: byId("queue-refresh", HTMLButtonElement),
    convPlaceholder: byId("conv-placeholder", HTMLElement),
    convView: byId("conv-view", HTMLElement),
    convBack: byId("conv-back", HTMLButtonElement),
    convTitle: byId("conv-title", HTMLElement),
    convMeta: byId("conv-meta", HTMLElement),
    convMessages: byId("conv-messages", HTMLOListElement),
    convNoMsg: byId("conv-nomsg", HTMLElement),
    claimButton: byId("claim-button", HTMLButtonElement),
    closeButton: byId("close-button", HTMLButtonElement),
    replyForm: byId("reply-form", HTMLFormElement),
    replyLabel: byId("reply-label", HTMLLabelElement),
    replyInput: byId("reply-input", HTMLTextAreaElement),
    replySend: byId("reply-send", HTMLButtonElement),
    noteToggle: byId("note-toggle", HTMLInputElement),
  };
}

/** @typedef {ReturnType<typeof findElements>} ConsoleElements */

/** The page's elements; filled by bindElements() at boot, before any view runs. */
export const els = /** @type {ConsoleElements} */ ({});

export function bindElements() {
  Object.assign(els, findElements());
}
