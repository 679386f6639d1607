// @ts-check
// The queue view: the list of open conversations, its filter, and keyboard moves through it.

import { t, formatDuration, formatFullTime, parseTime, label } from "../i18n.js";
import { el, coalesced } from "../lib/dom.js";
import { state, els, isMine } from "./state.js";
import { call } from "./session.js";
import { isSystemTag, tagText } from "./labels.js";
import { isUrgent, queueLoaded, renderTitle, shownTags, urgencyBadge, urgentFirst } from "./urgency.js";
import { channelTag } from "./channel.js"; // --- line: the channel with its mark
import { followUpBadge, queueChanged } from "./follow_ups.js"; // --- follow-ups: a follow-up's task

const QUEUE_STATUSES = "queued,assigned,waiting";

export async function loadQueue() {
  if (!state.me) return;
  const data = await call("GET", `/api/conversations?status=${encodeURIComponent(QUEUE_STATUSES)}`);
  if (!data || !state.me) return;
  state.conversations = Array.isArray(data.conversations) ? data.conversations : [];
  renderQueue();
  queueLoaded();
  queueChanged(); // --- follow-ups: a task of hers entered the queue
}

/** Reload the queue soon, once for a burst of calls, and at most about once a second under a
 * flood of event frames (every console asks after every frame; the server answers a page it
 * already built, or 304 when nothing changed: the browser revalidates it with If-None-Match,
 * since call() leaves fetch's HTTP cache on and the server sends ETag + no-cache). */
export const refreshQueue = coalesced(loadQueue, 120, 1000, 1000);

function filteredConversations() {
  const all = state.conversations;
  if (state.filter === "mine") return all.filter(isMine);
  if (state.filter === "unassigned") return all.filter((c) => c.assignee_id === null || c.assignee_id === undefined);
  return all;
}

export function renderQueue() {
  if (!state.me) return;
  const active = document.activeElement;
  const focusedId = active instanceof HTMLElement ? active.dataset.conversationId : undefined;
  const list = urgentFirst(filteredConversations());
  const now = Date.now();
  const frag = document.createDocumentFragment();
  for (const c of list) {
    const li = el("li", "queue-row");
    const btn = el("button", "queue-item");
    btn.type = "button";
    btn.setAttribute("data-testid", "queue-item");
    btn.dataset.conversationId = String(c.id);
    btn.dataset.status = c.status;
    if (String(c.id) === String(state.openId)) btn.setAttribute("aria-current", "true");
    if (isMine(c)) btn.classList.add("is-mine");
    if (isUrgent(c)) btn.classList.add("is-urgent");

    const top = el("span", "qi-top");
    top.append(el("span", "qi-alias", c.contact_alias || `#${c.id}`));
    if (isUrgent(c)) top.append(urgencyBadge(c));
    else if (Number(c.priority) > 0) top.append(el("span", "badge badge-priority", t("queue.priority")));
    if (isMine(c)) top.append(el("span", "badge badge-mine", t("queue.mine")));
    if (c.follow_up) top.append(followUpBadge());

    const mid = el("span", "qi-mid");
    mid.append(
      channelTag(c.channel, "qi-channel"),
      el("span", "qi-sep", "・"),
      el("span", `qi-status status-${c.status}`, label("status", c.status)),
    );

    const bottom = el("span", "qi-bottom");
    const since = parseTime(c.last_inbound_at);
    const wait = el("span", "qi-wait", since ? t("queue.waitingFor", { d: formatDuration(now - since.getTime()) }) : t("queue.noInbound"));
    if (since) wait.title = formatFullTime(since);
    bottom.append(wait);

    btn.append(top, mid, bottom);
    const tags = shownTags(c);
    if (tags.length) {
      const tagRow = el("span", "qi-tags");
      for (const tag of tags) tagRow.append(el("span", isSystemTag(tag) ? "tag tag-system" : "tag", tagText(tag)));
      btn.append(tagRow);
    }
    li.append(btn);
    frag.append(li);
  }
  els.queue.replaceChildren(frag);
  els.queueEmpty.hidden = list.length > 0;
  els.queueCount.textContent = state.conversations.length ? `(${state.conversations.length})` : "";
  renderTitle();
  if (focusedId !== undefined) {
    const again = queueItem(focusedId);
    if (again) again.focus();
  }
}

/** The queue's button for a conversation, if it is listed. @param {number | string} id */
export function queueItem(id) {
  const item = els.queue.querySelector(`[data-conversation-id="${CSS.escape(String(id))}"]`);
  return item instanceof HTMLElement ? item : null;
}

/** Mark the open conversation's row (aria-current), or none. @param {number | null} id */
export function markOpen(id) {
  for (const b of els.queue.querySelectorAll(".queue-item")) {
    if (id !== null && b instanceof HTMLElement && b.dataset.conversationId === String(id)) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  }
}

/** @param {KeyboardEvent} e */
function onQueueKeydown(e) {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  const items = /** @type {HTMLElement[]} */ ([...els.queue.querySelectorAll(".queue-item")]);
  const i = items.indexOf(/** @type {HTMLElement} */ (document.activeElement));
  if (i < 0) return;
  e.preventDefault();
  const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))];
  next.focus();
}

/** Clear the list (the session ended). */
export function resetQueue() {
  state.conversations = [];
  els.queue.replaceChildren();
}

/**
 * Wire the queue's controls; a click on a row opens that conversation with `onOpen`.
 * @param {(id: number) => void} onOpen
 */
export function bindQueue(onOpen) {
  els.queueRefresh.addEventListener("click", () => loadQueue());
  els.queueFilter.addEventListener("change", () => {
    state.filter = els.queueFilter.value;
    renderQueue();
  });
  els.queue.addEventListener("click", (e) => {
    const btn = e.target instanceof Element ? e.target.closest(".queue-item") : null;
    if (btn instanceof HTMLElement) onOpen(Number(btn.dataset.conversationId));
  });
  els.queue.addEventListener("keydown", onQueueKeydown);
}
