// @ts-check
// The chat's message list: bubbles in id order, their meta line (time, sending/sent/failed),
// the "earlier messages" button, the status line and the banner.

import { t, formatTime, formatFullTime } from "../i18n.js";
import { el } from "../lib/dom.js";
import { state, els } from "./state.js";
import { updateCounter } from "./composer.js";
import { addSurvey } from "./survey.js";

/** @typedef {import("./state.js").MessageView} MessageView */

/**
 * A message as the server sends it.
 * @typedef {object} ServerMessage
 * @property {number | string} id
 * @property {string} direction
 * @property {string | null} [body]
 * @property {string | null} [created_at]
 * @property {boolean} [automatic] no person wrote it: marked "automatic message"
 * @property {number} [conversation] which of her conversations it belongs to
 * @property {boolean} [survey] the satisfaction survey's question, still open: answered by buttons
 */

/** @param {import("./state.js").ChatConnState} s */
export function setStatus(s) {
  state.connState = s;
  els.status.dataset.state = s;
  els.statusText.textContent = t(`chat.status.${s}`);
}

export function updateEmpty() {
  els.empty.hidden = els.list.querySelector(".msg") !== null;
}

export function isNearBottom() {
  const m = els.scroller;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

export function scrollToBottom() {
  els.scroller.scrollTop = els.scroller.scrollHeight;
}

/** The view data of a bubble (every bubble has one). @param {Element} li */
export function viewOf(li) {
  return /** @type {MessageView} */ (state.view.get(li));
}

/** (Re-)render a bubble's meta line, state and error. @param {Element} li */
export function renderMeta(li) {
  const v = state.view.get(li);
  if (!v || !(li instanceof HTMLElement)) return;
  li.dataset.state = v.state;
  // An automatic message says so in words on screen (its label), so it needs no hidden name.
  v.who.textContent = v.automatic ? "" : `${v.direction === "inbound" ? t("chat.me") : t("chat.counselor")}: `;
  v.time.textContent = formatTime(v.created_at);
  v.time.dateTime = v.created_at || "";
  v.time.title = formatFullTime(v.created_at);
  if (v.direction === "inbound") {
    let s = t(`chat.state.${v.state}`);
    if (v.state === "sending" && v.retrying) {
      s = t(v.retryCode === "rate_limited" ? "chat.error.rateLimited" : "chat.state.retry");
    }
    v.stateEl.textContent = s;
  } else {
    v.stateEl.textContent = "";
  }
  if (v.state === "failed") {
    v.errorEl.hidden = false;
    v.errorEl.dataset.code = v.errorCode || "";
    /** @type {Record<string, string>} */
    const keys = {
      too_large: "chat.error.tooLarge",
      validation: "chat.error.validation",
      daily_limit: "chat.error.dailyLimit",
    };
    const key = v.errorCode ? keys[v.errorCode] : undefined;
    const detail = el("span", "msg-error-detail", v.error || "");
    v.errorEl.replaceChildren(t(key || "chat.error.generic"), detail);
    detail.hidden = !v.error;
    v.editBtn.hidden = false;
    v.editBtn.textContent = t("chat.failedEdit");
  } else {
    v.errorEl.hidden = true;
    v.editBtn.hidden = true;
  }
}

/**
 * A new bubble.
 * @param {{direction: string, body: string, created_at: string | null | undefined, state: MessageView["state"], automatic?: boolean}} m
 */
export function createMessageEl({ direction, body, created_at, state: messageState, automatic = false }) {
  const li = document.createElement("li");
  li.className = `msg msg-${direction}${automatic ? " msg-auto" : ""}`;
  li.setAttribute("data-testid", "chat-message");
  li.dataset.direction = direction;

  const who = document.createElement("span");
  who.className = "visually-hidden";

  const bubble = document.createElement("div");
  bubble.className = "bubble";
  const text = document.createElement("p");
  text.className = "msg-body";
  text.textContent = body;
  bubble.append(who);
  if (automatic) {
    const tag = el("span", "msg-auto-label", t("chat.automatic"));
    tag.dataset.i18n = "chat.automatic";
    tag.setAttribute("data-testid", "chat-auto-label");
    bubble.append(tag);
  }
  bubble.append(text);

  const meta = document.createElement("div");
  meta.className = "msg-meta";
  const time = document.createElement("time");
  const stateEl = document.createElement("span");
  stateEl.className = "msg-state";
  meta.append(time, stateEl);

  const errorEl = document.createElement("p");
  errorEl.className = "msg-error";
  errorEl.hidden = true;
  const editBtn = document.createElement("button");
  editBtn.type = "button";
  editBtn.className = "btn btn-small btn-quiet msg-edit";
  editBtn.hidden = true;
  editBtn.addEventListener("click", () => {
    // Put the text back into the input so nothing she wrote is lost, and drop the failed bubble.
    if (!els.input.value.trim()) els.input.value = body;
    li.remove();
    updateEmpty();
    updateCounter();
    els.input.focus();
  });

  li.append(bubble, meta, errorEl, editBtn);
  state.view.set(li, { direction, created_at, state: messageState, who, time, stateEl, errorEl, editBtn, retrying: false, automatic });
  renderMeta(li);
  return li;
}

/**
 * Insert a stored message in id order, before any message still being sent.
 * Failed local messages keep the place where she wrote them.
 * @param {ServerMessage | null | undefined} msg
 */
export function insertServerMessage(msg) {
  if (!msg || (typeof msg.id !== "number" && typeof msg.id !== "string")) return null;
  if (msg.direction !== "inbound" && msg.direction !== "outbound") return null; // never show anything else
  const id = Number(msg.id);
  const shown = state.byId.get(id);
  if (shown) return shown;
  const li = createMessageEl({
    direction: msg.direction,
    body: String(msg.body ?? ""),
    created_at: msg.created_at,
    state: "sent",
    automatic: msg.automatic === true && msg.direction === "outbound",
  });
  li.dataset.id = String(id);
  if (typeof msg.conversation === "number") li.dataset.conversation = String(msg.conversation);
  if (msg.survey === true && msg.direction === "outbound") addSurvey(li);
  state.byId.set(id, li);

  let before = null;
  for (const child of els.list.children) {
    if (!(child instanceof HTMLElement)) continue;
    const later = child.dataset.id !== undefined && Number(child.dataset.id) > id;
    if (later || child.dataset.clientId !== undefined) {
      before = child;
      break;
    }
  }
  els.list.insertBefore(li, before);
  markConversations();
  updateEmpty();
  return li;
}

/**
 * Where one of her conversations ended and the next began (her history spans them): a line
 * between two messages of different conversations.
 */
export function markConversations() {
  for (const old of els.list.querySelectorAll(".chat-divider")) old.remove();
  /** @type {string | undefined} */
  let previous;
  for (const child of [...els.list.children]) {
    if (!(child instanceof HTMLElement)) continue;
    const current = child.dataset.conversation;
    if (current === undefined) continue;
    if (previous !== undefined && current !== previous) {
      const divider = el("li", "chat-divider", t("chat.dividerEnded"));
      divider.dataset.i18n = "chat.dividerEnded";
      divider.setAttribute("data-testid", "chat-divider");
      els.list.insertBefore(divider, child);
    }
    previous = current;
  }
}

/** Add a batch of stored messages without aria-live reading them all out. @param {ServerMessage[]} messages */
export function insertQuietly(messages) {
  els.list.setAttribute("aria-live", "off");
  for (const m of messages) insertServerMessage(m);
  requestAnimationFrame(() => els.list.setAttribute("aria-live", "polite"));
}

export function clearServerMessages() {
  for (const li of state.byId.values()) li.remove();
  state.byId.clear();
  state.hasOlder = false;
  renderEarlier();
  updateEmpty();
}

export function oldestShownId() {
  /** @type {number | null} */
  let oldest = null;
  for (const id of state.byId.keys()) if (oldest === null || id < oldest) oldest = id;
  return oldest;
}

export function renderEarlier() {
  const key = state.loadingOlder ? "chat.earlierLoading" : "chat.earlier";
  els.earlier.dataset.i18n = key;
  els.earlier.textContent = t(key);
  els.earlier.hidden = !state.hasOlder;
  els.earlier.setAttribute("aria-busy", state.loadingOlder ? "true" : "false");
}

/** @param {string} text "" hides the banner */
export function showBanner(text) {
  els.banner.textContent = text;
  els.banner.hidden = !text;
}
