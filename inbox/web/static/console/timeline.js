// @ts-check
// Her history beside the open conversation: her conversations on every channel (closed ones
// too), newest first, each with its outcome and who handled it, and readable on demand a page
// at a time. The head's "returning consulter, last helped by X" is returningText().
// --- link: a supervisor links another conversation's consulter to her (the same person on another
// channel); the server merges the two, and the timeline reloads with both channels.

import { t, formatTime, formatFullTime, label } from "../i18n.js";
import { byId, el } from "../lib/dom.js";
import { api, ApiError } from "../lib/api.js";
import { state } from "./state.js";
import { call, endSession } from "./session.js";
import { outcomeLabel } from "./closing.js";
import { channelTag } from "./channel.js"; // --- line: the channel with its mark

/**
 * @typedef {import("./types.js").Conversation & import("./types.js").ContextFields} Line
 * @typedef {import("./types.js").Message} Message
 */

function historyEls() {
  return {
    section: byId("history", HTMLElement),
    details: byId("history-details", HTMLDetailsElement),
    summary: byId("history-summary", HTMLElement),
    list: byId("history-list", HTMLOListElement),
    more: byId("history-more", HTMLButtonElement),
    link: byId("link-details", HTMLDetailsElement),
    linkForm: byId("link-form", HTMLFormElement),
    linkOther: byId("link-other", HTMLInputElement),
    linkReason: byId("link-reason", HTMLTextAreaElement),
    linkError: byId("link-error", HTMLElement),
    linkSubmit: byId("link-submit", HTMLButtonElement),
    linkDone: byId("link-done", HTMLElement),
  };
}

/** @type {ReturnType<typeof historyEls> | null} */
let h = null;
/** @type {Line[]} */
let lines = [];
/** @type {number | null} */
let nextBefore = null;
/** @type {number | null} the conversation the timeline was opened from */
let anchor = null;
/** earlier conversation id -> its messages read so far, and the cursor for older ones */
const opened = new Map();
let seq = 0;

/** "Returning consulter · last helped by X", or "" for a first contact. @param {import("./types.js").Conversation} conv */
export function returningText(conv) {
  const c = /** @type {Line} */ (conv);
  if (!c.returning) return "";
  return c.last_helped_by ? t("history.returningBy", { name: c.last_helped_by }) : t("history.returning");
}

/** Load the timeline of the conversation now open (its first page). */
export async function loadTimeline() {
  if (!h || state.openId === null) return;
  const id = state.openId;
  const mine = ++seq;
  if (anchor !== id) {
    anchor = id;
    lines = [];
    nextBefore = null;
    opened.clear();
    h.details.open = false;
    h.section.hidden = true;
    resetLinkForm();
  }
  const data = await call("GET", `/api/conversations/${encodeURIComponent(id)}/timeline?limit=20`);
  if (mine !== seq || !data || state.openId !== id) return;
  lines = Array.isArray(data.conversations) ? data.conversations : [];
  nextBefore = data.next_before ?? null;
  renderTimeline();
}

async function loadMore() {
  if (!h || anchor === null || nextBefore === null) return;
  const id = anchor;
  const data = await call(
    "GET",
    `/api/conversations/${encodeURIComponent(id)}/timeline?limit=20&before=${encodeURIComponent(nextBefore)}`,
  );
  if (!data || anchor !== id) return;
  lines = lines.concat(Array.isArray(data.conversations) ? data.conversations : []);
  nextBefore = data.next_before ?? null;
  renderTimeline();
}

/** @param {Line} c */
function lineItem(c) {
  const li = el("li", "history-item");
  li.dataset.conversationId = String(c.id);
  li.setAttribute("data-testid", "history-item");
  if (c.current) li.classList.add("is-current");
  const head = el("p", "hi-head");
  const when = el("span", "hi-date", formatTime(c.created_at));
  when.title = formatFullTime(c.created_at);
  head.append(when, channelTag(c.channel, "hi-channel"));
  head.append(el("span", `hi-status status-${c.status}`, label("status", c.status)));
  if (c.current) head.append(el("span", "badge badge-mine", t("history.current")));
  li.append(head);
  const facts = el("p", "hi-facts");
  if (c.outcome) facts.append(el("span", "hi-outcome", `${t("history.outcome")}: ${outcomeLabel(c.outcome)}`));
  facts.append(el("span", "hi-by", `${t("history.handledBy")}: ${c.handled_by_name || t("history.nobody")}`));
  facts.append(el("span", "hi-count", t("history.messages", { n: c.message_count ?? 0 })));
  li.append(facts);
  if (c.outcome_note) li.append(el("p", "hi-note", `${t("history.note")}: ${c.outcome_note}`));
  if (!c.current) {
    const read = el("button", "btn btn-small btn-quiet hi-read", t("history.read"));
    read.type = "button";
    read.setAttribute("data-testid", "history-read");
    read.setAttribute("aria-expanded", opened.has(c.id) ? "true" : "false");
    read.addEventListener("click", () => toggleRead(c.id, li, read));
    li.append(read);
    const got = opened.get(c.id);
    if (got) li.append(messagesBlock(c.id, got.messages, got.before, li, read));
  }
  return li;
}

/**
 * @param {number} id
 * @param {HTMLLIElement} li
 * @param {HTMLButtonElement} button
 */
async function toggleRead(id, li, button) {
  if (opened.has(id)) {
    opened.delete(id);
    li.querySelector(".hi-messages")?.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  await readPage(id, null, li, button);
}

/**
 * Read a page of an earlier conversation's messages (older than `before`).
 * @param {number} id
 * @param {number | null} before
 * @param {HTMLLIElement} li
 * @param {HTMLButtonElement} button
 */
async function readPage(id, before, li, button) {
  if (anchor === null) return;
  const q = before === null ? "" : `&before=${encodeURIComponent(before)}`;
  const data = await call(
    "GET",
    `/api/conversations/${encodeURIComponent(anchor)}/timeline/${encodeURIComponent(id)}/messages?limit=30${q}`,
  );
  if (!data) return;
  const prev = opened.get(id);
  /** @type {Message[]} */
  const page = Array.isArray(data.messages) ? data.messages : [];
  const messages = prev && before !== null ? page.concat(prev.messages) : page;
  opened.set(id, { messages, before: data.next_before ?? null });
  li.querySelector(".hi-messages")?.remove();
  li.append(messagesBlock(id, messages, data.next_before ?? null, li, button));
  button.setAttribute("aria-expanded", "true");
}

/**
 * @param {number} id
 * @param {Message[]} messages
 * @param {number | null} before
 * @param {HTMLLIElement} li
 * @param {HTMLButtonElement} button
 */
function messagesBlock(id, messages, before, li, button) {
  const box = el("div", "hi-messages");
  if (before !== null) {
    const older = el("button", "btn btn-small btn-quiet", t("history.older"));
    older.type = "button";
    older.addEventListener("click", () => readPage(id, before, li, button));
    box.append(older);
  }
  const ol = el("ol", "hi-msgs");
  ol.setAttribute("aria-label", t("history.messagesOf", { date: formatTime(messages[0]?.created_at) }));
  for (const m of messages) {
    const item = el("li", `hi-msg dir-${m.direction}`);
    item.setAttribute("data-testid", "history-message");
    const who = el("span", "hi-who", t(`conv.from.${m.direction}`));
    const at = el("span", "hi-at", formatTime(m.created_at));
    at.title = formatFullTime(m.created_at);
    item.append(who, at, el("p", "hi-body", m.body ?? ""));
    ol.append(item);
  }
  box.append(ol);
  return box;
}

export function renderTimeline() {
  if (!h) return;
  const earlier = lines.filter((c) => !c.current);
  const linking = canLink();
  h.details.hidden = earlier.length === 0;
  h.link.hidden = !linking;
  h.section.hidden = earlier.length === 0 && !linking;
  h.summary.textContent = t("history.summary", { n: earlier.length + (nextBefore !== null ? "+" : "") });
  h.list.replaceChildren(...lines.map(lineItem));
  h.more.hidden = nextBefore === null;
}

/** Forget the timeline (the conversation was left, or the session ended). */
export function resetTimeline() {
  seq++;
  anchor = null;
  lines = [];
  nextBefore = null;
  opened.clear();
  if (h) {
    h.list.replaceChildren();
    h.section.hidden = true;
    resetLinkForm();
  }
}

export function bindTimeline() {
  h = historyEls();
  h.more.addEventListener("click", loadMore);
  h.linkForm.addEventListener("submit", onLink);
  const clear = () => {
    if (h) h.linkError.hidden = true;
  };
  h.linkOther.addEventListener("input", clear);
  h.linkReason.addEventListener("input", clear);
}

// --- link: one consulter across channels

/** Linking is a supervisor's decision (the server enforces it too). */
function canLink() {
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  return roles.includes("supervisor");
}

function resetLinkForm() {
  if (!h) return;
  h.link.open = false;
  h.linkOther.value = "";
  h.linkReason.value = "";
  h.linkError.hidden = true;
  h.linkError.textContent = "";
  h.linkSubmit.disabled = false;
  h.linkDone.textContent = "";
}

/**
 * @param {string} text
 * @param {HTMLElement} focus the field it is about
 */
function linkError(text, focus) {
  if (!h) return;
  h.linkError.textContent = text;
  h.linkError.hidden = false;
  focus.focus();
}

/** @param {Event} e */
async function onLink(e) {
  e.preventDefault();
  if (!h || anchor === null) return;
  const form = h;
  const id = anchor;
  // "１２" or "#12" as typed from the other conversation's head: digits, half-width
  const raw = form.linkOther.value.normalize("NFKC").trim().replace(/^(#|No\.?)\s*/i, "");
  if (!/^\d{1,18}$/.test(raw)) return linkError(t("link.needNumber"), form.linkOther);
  const reason = form.linkReason.value.trim();
  if (!reason) return linkError(t("link.needReason"), form.linkReason);
  const other = Number(raw);
  if (!window.confirm(t("link.confirm", { id: other }))) return;
  form.linkError.hidden = true;
  form.linkSubmit.disabled = true;
  let data;
  try {
    data = await api("POST", `/api/conversations/${encodeURIComponent(id)}/link`, {
      conversation_id: other,
      reason,
    });
  } catch (err) {
    form.linkSubmit.disabled = false;
    if (!(err instanceof ApiError)) return linkError(t("error.network"), form.linkOther);
    if (err.status === 401) return endSession("login.expired");
    if (err.status === 404) return linkError(t("link.notFound"), form.linkOther);
    if (err.field === "conversation_id") return linkError(t("link.badOther"), form.linkOther);
    if (err.field === "reason") return linkError(t("link.needReason"), form.linkReason);
    return linkError(err.message, form.linkOther);
  }
  if (anchor !== id) return;
  resetLinkForm();
  if (data && data.contact_alias) {
    form.linkDone.textContent = t("link.done", { alias: data.merged_alias, kept: data.contact_alias });
  }
  await loadTimeline();
  if (h && anchor === id) h.details.open = true; // show her history, both channels in it
}
