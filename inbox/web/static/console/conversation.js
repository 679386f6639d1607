// @ts-check
// The conversation view: opening and closing a conversation, its head (who, status, tags) and
// its actions (claim, close). Its messages are messages.js's; its reply box composer.js's, which
// hears of switches through onConversationLeave / onConversationOpen.

import { t, formatTime, formatFullTime, label } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { el, coalesced, errorMessage } from "../lib/dom.js";
import { state, els, isMine } from "./state.js";
import { showToast } from "./header.js";
import { call, endSession } from "./session.js";
import { markOpen, queueItem, refreshQueue } from "./queue.js";
import { clearMessages, renderMessages } from "./messages.js";
import { askToClose, outcomeLabel } from "./closing.js";
import { returningText, loadTimeline } from "./timeline.js";
import { renderTags } from "./tags.js";
import { renderTopics } from "./topics.js";
import { isUrgent, urgencyBadge } from "./urgency.js";
import { renderSms } from "./sms.js";
import { renderOptOut } from "./optout.js";
import { renderCallback } from "./callback.js";
import { renderReferralAccess } from "./referrals.js"; // --- casework: referrals
import { channelTag } from "./channel.js"; // --- line: the channel with its mark
import { followUpBadge, renderFollowUps } from "./follow_ups.js"; // --- follow-ups (近況確認)

/** @typedef {import("./types.js").Conversation} Conversation */

/** @type {Set<() => void>} */
const leaveListeners = new Set();
/** @type {Set<(id: number) => void>} */
const openListeners = new Set();

/** @type {Set<(id: number) => boolean>} */
const missingListeners = new Set();

/**
 * `fn` is asked when the open conversation cannot be fetched any more (404): true keeps what is
 * on screen (it knows why, e.g. it was moved away from her), else the view closes with an error.
 * @param {(id: number) => boolean} fn
 */
export function onConversationMissing(fn) {
  missingListeners.add(fn);
}

/** `fn` runs just before the open conversation is left (for another, or closed). @param {() => void} fn */
export function onConversationLeave(fn) {
  leaveListeners.add(fn);
}

/** `fn` runs when a conversation is newly opened, before its first fetch. @param {(id: number) => void} fn */
export function onConversationOpen(fn) {
  openListeners.add(fn);
}

/**
 * Open a conversation (or refetch the open one).
 * @param {number} id
 * @param {{focus?: boolean}} [opts] focus its title when loaded (not when restored from the URL)
 */
export async function openConversation(id, { focus = true } = {}) {
  if (state.openId !== null && state.openId !== id) for (const fn of leaveListeners) fn();
  const fresh = state.openId !== id;
  state.openId = id;
  history.replaceState(null, "", `#/c/${id}`);
  document.body.classList.add("show-conv");
  markOpen(id);
  if (fresh) {
    state.conv = null;
    state.pendingFresh = true;
    clearMessages();
    els.convTitle.textContent = t("conv.loading");
    els.convMeta.replaceChildren();
    els.convPlaceholder.hidden = true;
    // no reply, claim or close until she is loaded: a click on them would have nothing to act
    // on (act() and askToClose() need state.conv), and would be lost
    els.replyForm.hidden = true;
    els.claimButton.hidden = true;
    els.closeButton.hidden = true;
    els.convView.hidden = false;
    els.convView.dataset.conversationId = String(id);
    for (const fn of openListeners) fn(id);
  }
  await reloadConversation({ fresh });
  if (focus && state.openId === id) els.convTitle.focus();
}

/** Refetch the open conversation and render what changed. @param {{fresh?: boolean}} [opts] */
export async function reloadConversation({ fresh = false } = {}) {
  const id = state.openId;
  if (id === null) return;
  const seq = ++state.loadSeq;
  let data;
  try {
    data = await api("GET", `/api/conversations/${encodeURIComponent(id)}`);
  } catch (e) {
    if (seq !== state.loadSeq) return;
    if (e instanceof ApiError && e.status === 401) {
      endSession("login.expired");
      return;
    }
    if (e instanceof ApiError && e.status === 404 && [...missingListeners].some((fn) => fn(id))) return;
    showToast(errorMessage(e));
    if (e instanceof ApiError && e.status === 404) closeConversationView();
    return;
  }
  if (seq !== state.loadSeq || state.openId !== id || !data) return;
  state.conv = data.conversation;
  renderConversationHead();
  renderMessages(Array.isArray(data.messages) ? data.messages : [], fresh || state.pendingFresh);
  state.pendingFresh = false;
}

/** Refetch the open conversation soon, once for a burst of calls. */
export const refreshOpen = coalesced(() => reloadConversation());

/** Leave the open conversation (back to the list on a phone). */
export function closeConversationView() {
  for (const fn of leaveListeners) fn();
  state.openId = null;
  state.conv = null;
  clearMessages();
  els.convView.hidden = true;
  els.convPlaceholder.hidden = false;
  document.body.classList.remove("show-conv");
  history.replaceState(null, "", window.location.pathname + window.location.search);
  markOpen(null);
}

/** Forget the open conversation without a trace (the session ended). */
export function resetConversation() {
  state.openId = null;
  state.conv = null;
  clearMessages();
  state.loadSeq++;
  els.convTitle.textContent = "";
  els.convMeta.replaceChildren();
  els.convView.hidden = true;
  els.convPlaceholder.hidden = false;
  document.body.classList.remove("show-conv");
  if (window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);
}

/** @param {Conversation} conv */
function assigneeText(conv) {
  if (conv.assignee_id === null || conv.assignee_id === undefined) return t("conv.assignee.none");
  if (isMine(conv)) return t("conv.assignee.me");
  // --- desk: her name, never an id
  return conv.assignee_name ? t("conv.assignee.named", { name: conv.assignee_name }) : t("conv.assignee.unknown");
}

export function renderConversationHead() {
  const c = state.conv;
  if (!c) return;
  els.convTitle.textContent = c.contact_alias || `#${c.id}`;
  els.convView.dataset.status = c.status;
  const parts = [
    channelTag(c.channel, "cm-channel"),
    el("span", `cm-status status-${c.status}`, label("status", c.status)),
    el("span", "cm-assignee", `${t("conv.assignee")}: ${assigneeText(c)}`),
  ];
  if (isUrgent(c)) parts.push(urgencyBadge(c));
  else if (Number(c.priority) > 0) parts.push(el("span", "badge badge-priority", t("queue.priority")));
  if (c.follow_up) parts.push(followUpBadge());
  const returning = returningText(c);
  if (returning) parts.push(el("span", "badge badge-returning", returning));
  const created = el("span", "cm-created", `${t("conv.created")}: ${formatTime(c.created_at)}`);
  created.title = formatFullTime(c.created_at);
  parts.push(created);
  parts.push(el("span", "cm-number", t("link.number", { id: c.id }))); // --- link: what to link by
  // --- audit: "who read this?" is the audit page's answer (supervisors; a tab of its own)
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  if (roles.includes("supervisor")) {
    const whoRead = el("a", "cm-audit", t("audit.whoRead"));
    whoRead.href = `/audit?kind=conversation_read&conversation=${encodeURIComponent(String(c.id))}`;
    whoRead.target = "_blank";
    whoRead.rel = "noopener";
    whoRead.dataset.testid = "conv-who-read";
    parts.push(whoRead);
  }
  const closed = c.status === "closed";
  const ended = /** @type {import("./types.js").ContextFields} */ (c);
  if (closed && ended.outcome) {
    parts.push(el("span", "cm-outcome", `${t("closing.outcome")}: ${outcomeLabel(ended.outcome)}`));
  }
  els.convMeta.replaceChildren(...parts);
  renderTags(); // --- desk: the tags, as words, with their editor
  renderTopics(); // --- casework: topics and age group
  els.claimButton.hidden = closed || isMine(c);
  els.closeButton.hidden = closed;
  els.replyForm.hidden = closed; // a closed conversation is read, not answered
  renderSms(); // --- sms: the segment count
  renderOptOut(); // --- line: the banner of a consulter who cannot be reached (SMS STOP, LINE block)
  renderCallback(); // --- callback: asking the phone desk to call her back
  renderFollowUps(); // --- follow-ups: hers, the form, and a task's outcomes
  renderReferralAccess(); // --- casework: who may record a referral follows the record
}

/**
 * Run a conversation action (claim, close) from its button and show the record it answers.
 * @param {HTMLButtonElement} button
 * @param {string} action the path's last part
 * @param {object} body
 */
async function act(button, action, body) {
  if (!state.conv) return;
  const id = state.conv.id;
  button.disabled = true;
  const data = await call("POST", `/api/conversations/${encodeURIComponent(id)}/${action}`, body);
  button.disabled = false;
  if (data && data.conversation && state.openId === id) {
    state.conv = data.conversation;
    renderConversationHead();
  }
  refreshOpen();
  refreshQueue();
}

export function bindConversation() {
  els.convBack.addEventListener("click", () => {
    const id = state.openId;
    closeConversationView();
    const btn = id !== null ? queueItem(id) : null;
    if (btn) btn.focus();
  });
  els.claimButton.addEventListener("click", () => {
    if (state.me) act(els.claimButton, "assign", { user_id: state.me.id });
  });
  els.closeButton.addEventListener("click", () =>
    askToClose((closed) => {
      if (state.openId !== closed.id) return;
      state.conv = closed;
      renderConversationHead();
      refreshOpen();
      refreshQueue();
      loadTimeline();
    }),
  );
}
