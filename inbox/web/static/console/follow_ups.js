// @ts-check
// Follow-ups (近況確認) in the conversation view: her follow-ups (this conversation's consulter's)
// with a cancel button while scheduled and the three outcomes once due; the form to set one (a
// day, a week ahead by default; the channel to write on; a note for staff only); and, when the
// open conversation is a follow-up's task, a banner with its outcomes. The queue's mark is
// followUpBadge(). The server decides who may do what; the controls follow the same rules.

import { t, getLang, label } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { clearFormError, showFormError } from "../lib/forms.js";
import { state, isMine } from "./state.js";
import { showToast } from "./header.js";
import { call, endSession } from "./session.js";

/**
 * @typedef {object} FollowUp
 * @property {number} id
 * @property {string} due_on YYYY-MM-DD, the program's day
 * @property {string} status scheduled | due | done | skipped | unreachable | cancelled
 * @property {string} note
 * @property {string} channel
 * @property {{id: number, name: string | null} | null} counselor
 * @property {number | null} conversation its task, once due
 */
/**
 * @typedef {object} FollowUpList
 * @property {FollowUp[]} follow_ups
 * @property {{id: number, channel: string}[]} identities
 * @property {string} default_due_on
 * @property {string} today
 * @property {{id: string, ja: string, en: string}[]} outcomes
 */

function followUpEls() {
  return {
    section: byId("followups", HTMLElement),
    task: byId("followup-task", HTMLElement),
    taskText: byId("followup-task-text", HTMLElement),
    taskResolve: byId("followup-task-resolve", HTMLElement),
    details: byId("followups-details", HTMLDetailsElement),
    summary: byId("followups-summary", HTMLElement),
    list: byId("followups-list", HTMLUListElement),
    form: byId("followup-form", HTMLFormElement),
    date: byId("followup-date", HTMLInputElement),
    identityField: byId("followup-identity-field", HTMLElement),
    identity: byId("followup-identity", HTMLSelectElement),
    note: byId("followup-note", HTMLTextAreaElement),
    error: byId("followup-error", HTMLElement),
    submit: byId("followup-submit", HTMLButtonElement),
    done: byId("followup-done", HTMLElement),
  };
}

/** @type {ReturnType<typeof followUpEls> | null} */
let f = null;
/** @type {FollowUpList | null} */
let data = null;
let loadedFor = /** @type {number | null} */ (null);
let loadSeq = 0;
let asked = /** @type {number | null} */ (null); // the conversation (and task) a load was asked for
let askedTask = /** @type {number | null} */ (null);
/** @type {() => void} */
let changed = () => {}; // the queue and the open conversation, refetched (main.js)

/** The queue's and the head's mark of a follow-up's task: an icon and words (its accessible name). */
export function followUpBadge() {
  const badge = el("span", "badge badge-followup");
  badge.dataset.testid = "followup-badge";
  const icon = el("span", "followup-icon", "↻");
  icon.setAttribute("aria-hidden", "true");
  badge.append(icon, el("span", "followup-word", t("followUp.badge")));
  return badge;
}

/** A program day (YYYY-MM-DD) in the UI's language, with its weekday. @param {string} day */
export function dayText(day) {
  const at = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return day;
  const locale = getLang() === "ja" ? "ja-JP" : "en-GB";
  return new Intl.DateTimeFormat(locale, {
    timeZone: "UTC",
    year: "numeric",
    month: "short",
    day: "numeric",
    weekday: "short",
  }).format(at);
}

function roles() {
  return state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
}

/** Counselors and supervisors work with follow-ups; phone staff alone do not. */
function shown() {
  const r = roles();
  return !!state.conv && (r.includes("counselor") || r.includes("supervisor"));
}

/** Whether she may set one from the open conversation: its assignee, or a supervisor. */
function maySet() {
  return !!state.conv && (isMine(state.conv) || roles().includes("supervisor"));
}

/** @param {string} id an outcome's id */
function outcomeText(id) {
  const found = data?.outcomes.find((o) => o.id === id);
  if (!found) return label("followUp.status", id);
  return getLang() === "ja" ? found.ja : found.en;
}

/** The three outcome buttons of a follow-up. @param {FollowUp} item */
function resolveButtons(item) {
  const row = el("span", "followup-outcomes");
  for (const o of data?.outcomes ?? []) {
    const b = el("button", "btn btn-small btn-quiet followup-outcome", outcomeText(o.id));
    b.type = "button";
    b.dataset.testid = `followup-resolve-${o.id}`;
    b.setAttribute("aria-label", t("followUp.resolveAria", { outcome: outcomeText(o.id), day: dayText(item.due_on) }));
    b.addEventListener("click", () => change(b, item, "resolve", { outcome: o.id }));
    row.append(b);
  }
  return row;
}

/** @param {FollowUp} item */
function itemRow(item) {
  const li = el("li", `followup-item followup-${item.status}`);
  li.dataset.testid = "followup-item";
  li.dataset.status = item.status;
  const head = el("span", "followup-line");
  head.append(
    el("span", "followup-day", dayText(item.due_on)),
    el("span", "followup-channel", label("channel", item.channel)),
    el("span", `followup-status status-${item.status}`, label("followUp.status", item.status)),
  );
  if (item.counselor?.name) head.append(el("span", "followup-who", t("followUp.by", { name: item.counselor.name })));
  li.append(head);
  if (item.note) li.append(el("span", "followup-note-text", item.note));
  if (item.status === "scheduled") {
    const cancel = el("button", "btn btn-small btn-quiet followup-cancel", t("followUp.cancel"));
    cancel.type = "button";
    cancel.dataset.testid = "followup-cancel";
    cancel.setAttribute("aria-label", t("followUp.cancelAria", { day: dayText(item.due_on) }));
    cancel.addEventListener("click", () => change(cancel, item, "cancel", {}));
    li.append(cancel);
  } else if (item.status === "due") {
    li.append(resolveButtons(item));
  }
  return li;
}

/** The section as the open conversation and the loaded list are now. */
export function renderFollowUps() {
  if (!f) return;
  const conv = state.conv;
  f.section.hidden = !shown();
  if (!conv || f.section.hidden) return;
  const task = conv.follow_up ?? null;
  const items = data && loadedFor === conv.id ? data.follow_ups : [];
  // once per conversation, and again when it became a task since (its list changed)
  if (loadedFor !== conv.id || (task && !items.some((i) => i.id === task.id && i.status === "due"))) {
    if (asked !== conv.id || (task && askedTask !== task.id)) {
      asked = conv.id;
      askedTask = task ? task.id : null;
      loadFollowUps();
    }
  }
  const taskItem = task ? items.find((i) => i.id === task.id) : undefined;
  f.task.hidden = !task;
  if (task) {
    f.taskText.replaceChildren(followUpBadge(), el("span", "followup-task-words", t("followUp.taskText", { day: dayText(task.due_on) })));
    f.taskResolve.replaceChildren(taskItem && taskItem.status === "due" ? resolveButtons(taskItem) : "");
  }
  const scheduled = items.filter((i) => i.status === "scheduled").length;
  f.summary.textContent = scheduled ? t("followUp.summaryCount", { n: scheduled }) : t("followUp.summary");
  f.list.replaceChildren(...items.map(itemRow));
  f.list.hidden = items.length === 0;
  f.form.hidden = !maySet();
  renderIdentities();
}

function renderIdentities() {
  if (!f || !data) return;
  const chosen = f.identity.value;
  const options = [new Option(t("followUp.sameChannel", { channel: label("channel", state.conv?.channel ?? "") }), "")];
  for (const i of data.identities) options.push(new Option(label("channel", i.channel), String(i.id)));
  f.identity.replaceChildren(...options);
  f.identity.value = chosen;
  if (f.identity.selectedIndex < 0) f.identity.value = "";
  f.identityField.hidden = data.identities.length < 2;
}

/** Fetch her follow-ups for the open conversation. */
export async function loadFollowUps() {
  if (!f || !state.conv || !shown()) return;
  const id = state.conv.id;
  const seq = ++loadSeq;
  const found = await call("GET", `/api/conversations/${encodeURIComponent(id)}/follow-ups`);
  if (seq !== loadSeq || !found || state.openId !== id) return;
  const fresh = loadedFor !== id;
  data = /** @type {FollowUpList} */ (found);
  loadedFor = id;
  if (fresh) resetForm();
  renderFollowUps();
}

function resetForm() {
  if (!f) return;
  f.note.value = "";
  f.identity.value = "";
  clearFormError(f.error, f.form);
  if (data) {
    f.date.min = data.today;
    f.date.value = data.default_due_on;
  }
}

/**
 * Cancel or resolve one, then show the list again.
 * @param {HTMLButtonElement} button @param {FollowUp} item @param {string} action @param {object} body
 */
async function change(button, item, action, body) {
  button.disabled = true;
  const done = await call("POST", `/api/follow-ups/${encodeURIComponent(item.id)}/${action}`, body);
  button.disabled = false;
  if (!done || !f) return;
  const wasTask = state.conv?.follow_up?.id === item.id;
  changed(); // a resolved task is no task any more: the queue's mark and the banner go
  const day = dayText(item.due_on);
  const words =
    action === "cancel"
      ? t("followUp.cancelled", { day })
      : // the task's conversation stays open: she closes it like any other once done
        [t("followUp.resolved", { day }), wasTask ? t("followUp.closeWhenDone") : ""]
          .filter(Boolean)
          .join(getLang() === "ja" ? "" : " ");
  f.done.textContent = words;
  showToast(words, { ok: true }); // in place of "scheduled for ..." above: never news out of date
  await loadFollowUps();
  f.done.focus?.();
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!f || !state.conv) return;
  const form = f;
  clearFormError(form.error, form.form);
  if (!form.date.value) return showFormError(form.error, t("followUp.needDate"), form.date);
  const id = state.conv.id;
  const body = {
    due_on: form.date.value,
    note: form.note.value.trim(),
    identity: form.identity.value ? Number(form.identity.value) : null,
  };
  form.submit.disabled = true;
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(id)}/follow-ups`, body);
  } catch (err) {
    form.submit.disabled = false;
    if (err instanceof ApiError && err.status === 401) return endSession("login.expired");
    const field = err instanceof ApiError && err.field === "due_on" ? form.date : err instanceof ApiError && err.field === "note" ? form.note : null;
    const text = err instanceof ApiError && err.field === "due_on" ? t("followUp.badDate") : (err instanceof Error && err.message) || t("error.network");
    return showFormError(form.error, text, field);
  }
  form.submit.disabled = false;
  form.done.textContent = t("followUp.set", { day: dayText(body.due_on) });
  showToast(t("followUp.set", { day: dayText(body.due_on) }), { ok: true });
  loadedFor = null; // a fresh form: a week ahead again
  await loadFollowUps();
}

/**
 * The queue was fetched (on a live frame, or by hand): a follow-up of hers listed as scheduled
 * whose task is now in the queue is due. Her list is fetched again (it said "scheduled" until a
 * reload). Only then: a list redrawn on every frame would swallow a click on its buttons.
 */
export function queueChanged() {
  if (!data || !state.conv || loadedFor !== state.conv.id) return;
  const listed = data.follow_ups;
  const stale = state.conversations.some((c) => {
    const task = /** @type {{follow_up?: {id: number} | null}} */ (c).follow_up;
    return task && listed.some((i) => i.id === task.id && i.status === "scheduled");
  });
  if (stale) loadFollowUps();
}

/** The session ended, or she left the conversation: nothing of hers stays in the page. */
export function resetFollowUps() {
  data = null;
  loadedFor = null;
  asked = null;
  askedTask = null;
  loadSeq++;
  if (!f) return;
  f.list.replaceChildren();
  f.taskResolve.replaceChildren();
  f.done.textContent = "";
  f.note.value = "";
  f.section.hidden = true;
}

/** @param {() => void} onChange after a change: refetch the queue and the open conversation */
export function bindFollowUps(onChange) {
  changed = onChange;
  f = followUpEls();
  f.note.maxLength = 500; // inbox/core/follow_ups.py MAX_FOLLOW_UP_NOTE_CHARS
  f.form.addEventListener("submit", onSubmit);
}
