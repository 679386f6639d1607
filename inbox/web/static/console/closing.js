// @ts-check
// Closing a conversation: the dialog that asks how it ended (an outcome of the program's list,
// in the UI language, and an optional note) and confirms; the outcomes' labels for the views.

import { t, getLang } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId } from "../lib/dom.js";
import { state } from "./state.js";
import { call, endSession } from "./session.js";

/** @typedef {{id: string, ja: string, en: string}} Outcome */

/** @type {Outcome[]} */
let outcomes = [];
/** Other endings' words (a phone callback's), for showing only. @type {Outcome[]} */
let shown = [];
/** @type {Promise<void> | null} */
let loading = null;

/** Fetch the configured outcomes once per session (GET /api/outcomes). */
export function loadOutcomes() {
  if (!loading) {
    loading = call("GET", "/api/outcomes").then((data) => {
      if (data && Array.isArray(data.outcomes)) outcomes = data.outcomes;
      if (data && Array.isArray(data.shown)) shown = data.shown;
      else loading = null;
    });
  }
  return loading;
}

/** The outcome's words in the UI language; the id itself when unknown. @param {string | null | undefined} id */
export function outcomeLabel(id) {
  if (!id) return "";
  const o = outcomes.find((x) => x.id === id) || shown.find((x) => x.id === id);
  if (!o) return id;
  return getLang() === "ja" ? o.ja : o.en;
}

function dialogEls() {
  return {
    dialog: byId("close-dialog", HTMLDialogElement),
    form: byId("close-form", HTMLFormElement),
    outcome: byId("close-outcome", HTMLSelectElement),
    note: byId("close-note", HTMLTextAreaElement),
    error: byId("close-error", HTMLElement),
    cancel: byId("close-cancel", HTMLButtonElement),
    confirm: byId("close-confirm", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof dialogEls> | null} */
let d = null;

function renderOptions() {
  if (!d) return;
  const chosen = d.outcome.value;
  const blank = new Option(t("closing.choose"), "");
  d.outcome.replaceChildren(blank, ...outcomes.map((o) => new Option(outcomeLabel(o.id), o.id)));
  d.outcome.value = chosen;
}

/**
 * Ask how the open conversation ended, then close it. `onClosed` gets the closed record.
 * @param {(conv: import("./types.js").Conversation) => void} onClosed
 */
export async function askToClose(onClosed) {
  if (!d || !state.conv) return;
  const dlg = d;
  const id = state.conv.id;
  await loadOutcomes();
  renderOptions();
  dlg.outcome.value = "";
  dlg.note.value = "";
  dlg.error.hidden = true;
  dlg.dialog.dataset.conversationId = String(id);
  closedHandler = onClosed;
  dlg.dialog.showModal();
  dlg.outcome.focus();
}

/** @type {((conv: import("./types.js").Conversation) => void) | null} */
let closedHandler = null;

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!d) return;
  const dlg = d;
  const id = Number(dlg.dialog.dataset.conversationId);
  if (!dlg.outcome.value) {
    dlg.error.textContent = t("closing.needOutcome");
    dlg.error.hidden = false;
    dlg.outcome.focus();
    return;
  }
  dlg.confirm.disabled = true;
  const body = { outcome: dlg.outcome.value, note: dlg.note.value.trim() || null };
  let data;
  try {
    data = await api("POST", `/api/conversations/${encodeURIComponent(id)}/close`, body);
  } catch (err) {
    dlg.confirm.disabled = false;
    if (err instanceof ApiError && err.status === 401) {
      dlg.dialog.close();
      endSession("login.expired");
      return;
    }
    // shown in the dialog, which stays open: the toast would be under it
    dlg.error.textContent =
      err instanceof ApiError && err.field === "outcome"
        ? t("closing.needOutcome")
        : (err instanceof Error && err.message) || t("error.network");
    dlg.error.hidden = false;
    return;
  }
  dlg.confirm.disabled = false;
  if (!data || !data.conversation) return;
  dlg.dialog.close();
  if (closedHandler) closedHandler(data.conversation);
}

export function bindClosing() {
  d = dialogEls();
  const dlg = d;
  dlg.form.addEventListener("submit", onSubmit);
  dlg.cancel.addEventListener("click", () => dlg.dialog.close());
  dlg.outcome.addEventListener("change", () => {
    if (dlg.outcome.value) dlg.error.hidden = true;
  });
}

/** The language changed: relabel the outcomes. */
export function renderClosing() {
  renderOptions();
}

/** The session ended: forget the outcomes (another account may see another list). */
export function resetClosing() {
  outcomes = [];
  loading = null;
  if (d && d.dialog.open) d.dialog.close();
}
