// @ts-check
// Working together on one conversation, live: who else has it open and who is typing in it
// (names, never ids), the consulter's read state is messages.js's, a reply that would double
// another staff member's asks first, and a conversation moved away while open says who moved it
// to whom instead of failing. The view and typing signals ride the staff socket (server:
// inbox/web/live.py); nothing of them is stored.

import { t, getLang } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { state, els } from "./state.js";
import { showToast } from "./header.js";
import { endSession } from "./session.js";
import { onLiveConnected, onLiveFrame, sendLive } from "./live.js";
import {
  onConversationLeave,
  onConversationMissing,
  onConversationOpen,
  reloadConversation,
  renderConversationHead,
} from "./conversation.js";

const TYPING_EVERY_MS = 3000; // the server passes a typing signal on for 6 s; renew before

/**
 * A staff member in a viewers frame.
 * @typedef {object} Viewer
 * @property {number} user_id
 * @property {string} display_name
 * @property {boolean} typing
 */

/**
 * Why the open conversation is no longer hers.
 * @typedef {object} MovedAway
 * @property {number} conversationId
 * @property {number | null} to whom it went; null: back to the queue
 * @property {number | null} by who moved it
 */

/** @type {Map<number, number>} conversation id -> the last message shown when she began this reply */
const composedAfter = new Map();
/** @type {Map<string, string>} staff id -> display name */
const names = new Map();
/** @type {Viewer[]} the others who have the open conversation open */
let others = [];
let othersConversation = /** @type {number | null} */ (null);
/** @type {ReturnType<typeof setTimeout> | undefined} */
let typingExpiry;
let lastTypingAt = 0;
/** @type {MovedAway | null} */
let moved = null;

/** @type {{viewers: HTMLElement, moved: HTMLElement, collision: HTMLElement, collisionText: HTMLElement, sendAnyway: HTMLButtonElement, cancel: HTMLButtonElement}} */
const parts = /** @type {any} */ ({});

// ---- names ------------------------------------------------------------------------------------

/** Fetch every staff member's display name (once per session, and when an unknown id appears). */
export async function loadStaffNames() {
  try {
    const data = await api("GET", "/api/staff");
    for (const s of (data && data.staff) || []) names.set(String(s.id), String(s.display_name));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) endSession("login.expired");
  }
}

/** @param {number | string | null | undefined} id */
export function nameOf(id) {
  if (id === null || id === undefined) return t("live.someone");
  return names.get(String(id)) || t("live.someone");
}

/** "佐藤さん、鈴木さん" / "Sato, Suzuki". @param {string[]} list */
export function joinNames(list) {
  return getLang() === "ja" ? list.map((n) => `${n}さん`).join("、") : list.join(", ");
}

// ---- who else is here -------------------------------------------------------------------------

function announceView() {
  sendLive({ type: "view", conversation_id: state.openId });
}

/** @param {any} msg */
function onViewers(msg) {
  if (!Array.isArray(msg.viewers) || msg.conversation_id !== state.openId) return;
  const me = state.me ? String(state.me.id) : "";
  others = msg.viewers.filter((/** @type {Viewer} */ v) => String(v.user_id) !== me);
  othersConversation = msg.conversation_id;
  clearTimeout(typingExpiry);
  if (others.some((v) => v.typing)) {
    // Typing lapses unless renewed: without news, she stopped.
    const ttl = Number(msg.typing_ttl_s) || 6;
    typingExpiry = setTimeout(() => {
      others = others.map((v) => ({ ...v, typing: false }));
      renderViewers();
    }, ttl * 1000);
  }
  renderViewers();
}

export function renderViewers() {
  const shown = othersConversation === state.openId ? others : [];
  const viewing = shown.map((v) => v.display_name);
  const typing = shown.filter((v) => v.typing).map((v) => v.display_name);
  const lines = [];
  if (typing.length) lines.push(t("live.typing", { names: joinNames(typing) }));
  else if (viewing.length) lines.push(t("live.viewing", { names: joinNames(viewing) }));
  const text = lines.join(" ");
  if (parts.viewers.textContent !== text) parts.viewers.textContent = text; // said once per change
}

/** The reply box changed: tell the others (and her consulter) that she is writing, at most every few seconds. */
function onInput() {
  if (state.openId === null || els.noteToggle.checked || moved) return;
  if (!els.replyInput.value.trim()) {
    composedAfter.delete(state.openId);
    stopTyping();
    return;
  }
  // What she had seen when she began: a reply that arrives while she writes may go unnoticed.
  if (!composedAfter.has(state.openId)) composedAfter.set(state.openId, lastSeenId());
  const now = Date.now();
  if (now - lastTypingAt < TYPING_EVERY_MS) return;
  lastTypingAt = now;
  sendLive({ type: "typing", conversation_id: state.openId });
}

/** She sent, cleared the box or left: she is no longer typing. */
export function stopTyping() {
  if (!lastTypingAt || state.openId === null) return;
  lastTypingAt = 0;
  sendLive({ type: "typing", conversation_id: state.openId, active: false });
}

// ---- moved away -------------------------------------------------------------------------------

/** @param {any} evt */
function movedAwayBy(evt) {
  if (!state.me || state.openId === null || String(evt.conversation_id) !== String(state.openId)) return null;
  const me = String(state.me.id);
  if (String(evt.from_user_id) !== me || String(evt.actor_id) === me) return null;
  if (evt.kind === "conversation_assigned" && String(evt.to_user_id) !== me) {
    return { conversationId: state.openId, to: evt.to_user_id, by: evt.actor_id };
  }
  if (evt.kind === "conversation_requeued") return { conversationId: state.openId, to: null, by: evt.actor_id };
  return null;
}

/** @param {any} msg */
function onEvents(msg) {
  for (const evt of msg.events) {
    const away = movedAwayBy(evt);
    if (away) {
      moved = away;
      stopTyping();
      // Her copy of the record says what the server will no longer show her: whose it is now.
      if (state.conv && state.conv.id === away.conversationId) {
        const status = away.to === null ? "queued" : state.conv.status;
        const assignee_name = away.to === null ? null : nameOf(away.to); // as h/desk names her
        state.conv = { ...state.conv, assignee_id: away.to, assignee_name, status };
        renderConversationHead();
      }
      if (!names.has(String(away.by)) || (away.to !== null && !names.has(String(away.to)))) {
        loadStaffNames().then(renderMoved);
      }
      renderMoved();
    }
  }
}

/** Whether she may write in the open conversation (not when it was moved away from her). */
export function mayWrite() {
  return !(moved && moved.conversationId === state.openId);
}

export function renderMoved() {
  const away = moved && moved.conversationId === state.openId ? moved : null;
  parts.moved.hidden = !away;
  // Read-only: the reply box and the actions go (style.css, "live collaboration").
  els.convView.classList.toggle("is-moved-away", Boolean(away));
  if (!away) {
    parts.moved.textContent = "";
    return;
  }
  const by = nameOf(away.by);
  const text =
    away.to === null ? t("live.requeued", { by }) : t("live.movedTo", { to: nameOf(away.to), by });
  parts.moved.replaceChildren(el("strong", "", text), el("span", "", ` ${t("live.readOnly")}`));
}

// ---- no double replies ------------------------------------------------------------------------

/** The last message her screen shows. */
function lastSeenId() {
  let last = 0;
  for (const key of state.messageData.keys()) last = Math.max(last, Number(key) || 0);
  return last;
}

/**
 * Ask whether to send after all: another's reply went out since she last looked.
 * @param {string[]} authors
 * @returns {Promise<boolean>}
 */
function askToSendAnyway(authors) {
  parts.collisionText.textContent = t("live.collision", { names: joinNames(authors.length ? authors : [t("live.someone")]) });
  parts.collision.hidden = false;
  parts.sendAnyway.focus();
  // Show her what went out meanwhile, just above the question.
  reloadConversation().then(() => {
    els.convMessages.scrollTop = els.convMessages.scrollHeight;
  });
  return new Promise((resolve) => {
    /** @param {boolean} yes */
    const done = (yes) => {
      parts.collision.hidden = true;
      parts.sendAnyway.removeEventListener("click", onYes);
      parts.cancel.removeEventListener("click", onNo);
      parts.collision.removeEventListener("keydown", onKey);
      resolve(yes);
      if (!yes) els.replyInput.focus();
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    /** @param {KeyboardEvent} e */
    const onKey = (e) => {
      if (e.key === "Escape") done(false);
    };
    parts.sendAnyway.addEventListener("click", onYes);
    parts.cancel.addEventListener("click", onNo);
    parts.collision.addEventListener("keydown", onKey);
  });
}

/**
 * Send her reply, saying which message she saw last; when someone else replied since, show who
 * and send only if she says so. The stored message's answer, or null (not sent; the error shown).
 * @param {string} path
 * @param {string} body
 * @returns {Promise<any>}
 */
export async function sendReply(path, body) {
  stopTyping();
  const id = state.openId;
  const seen = (id !== null && composedAfter.get(id)) || lastSeenId();
  try {
    const sent = await api("POST", path, seen ? { body, last_seen_message_id: seen } : { body });
    if (id !== null) composedAfter.delete(id);
    return sent;
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== "reply_collision") return failed(e);
    const named = e.details.authors;
    const authors = Array.isArray(named) ? named.map(String) : [];
    if (!(await askToSendAnyway(authors))) return null;
    try {
      const sent = await api("POST", path, { body, force: true });
      if (id !== null) composedAfter.delete(id);
      return sent;
    } catch (again) {
      return failed(again);
    }
  }
}

/** @param {unknown} e */
function failed(e) {
  if (e instanceof ApiError && e.status === 401) endSession("login.expired");
  else showToast(e instanceof Error && e.message ? e.message : t("error.network"));
  return null;
}

// ---- wiring -----------------------------------------------------------------------------------

function build() {
  parts.viewers = el("p", "conv-viewers");
  parts.viewers.id = "conv-viewers";
  parts.viewers.dataset.testid = "conv-viewers";
  parts.viewers.setAttribute("role", "status"); // present (empty) from the start, so its news is read
  parts.moved = el("div", "conv-moved");
  parts.moved.id = "conv-moved";
  parts.moved.dataset.testid = "conv-moved";
  parts.moved.setAttribute("role", "status");
  parts.moved.hidden = true;
  els.convMeta.after(parts.viewers, parts.moved);

  parts.collision = el("div", "reply-collision");
  parts.collision.id = "reply-collision";
  parts.collision.dataset.testid = "reply-collision";
  parts.collision.setAttribute("role", "alertdialog");
  parts.collision.setAttribute("aria-labelledby", "reply-collision-text");
  parts.collision.hidden = true;
  parts.collisionText = el("p", "reply-collision-text");
  parts.collisionText.id = "reply-collision-text";
  parts.sendAnyway = /** @type {HTMLButtonElement} */ (el("button", "btn btn-primary", t("live.sendAnyway")));
  parts.sendAnyway.type = "button";
  parts.sendAnyway.dataset.testid = "reply-collision-send";
  parts.cancel = /** @type {HTMLButtonElement} */ (el("button", "btn", t("live.dontSend")));
  parts.cancel.type = "button";
  parts.cancel.dataset.testid = "reply-collision-cancel";
  const actions = el("div", "reply-collision-actions");
  actions.append(parts.sendAnyway, parts.cancel);
  parts.collision.append(parts.collisionText, actions);
  els.replyForm.before(parts.collision);
}

/** Re-word what this module shows (the language changed). */
export function renderTogether() {
  parts.sendAnyway.textContent = t("live.sendAnyway");
  parts.cancel.textContent = t("live.dontSend");
  renderViewers();
  renderMoved();
}

/** Forget everything of the session that ended. */
export function resetTogether() {
  names.clear();
  composedAfter.clear();
  others = [];
  othersConversation = null;
  moved = null;
  lastTypingAt = 0;
  clearTimeout(typingExpiry);
  parts.viewers.textContent = "";
  parts.moved.hidden = true;
  parts.collision.hidden = true;
}

export function bindTogether() {
  build();
  onLiveFrame((msg) => {
    if (msg.type === "viewers") onViewers(msg);
    else if (msg.type === "events" && Array.isArray(msg.events)) onEvents(msg);
  });
  onLiveConnected(announceView); // the server forgets her view with her socket
  onConversationOpen(() => {
    moved = null;
    others = [];
    othersConversation = null;
    renderViewers();
    renderMoved();
    announceView();
  });
  onConversationLeave(() => {
    stopTyping();
    sendLive({ type: "view", conversation_id: null });
  });
  // Moved away from her: the conversation is no longer hers to see, so its refetch is refused;
  // what she had on screen stays, read-only, under the notice.
  onConversationMissing((id) => Boolean(moved && moved.conversationId === id));
  els.replyInput.addEventListener("input", onInput);
  els.noteToggle.addEventListener("change", stopTyping);
}
