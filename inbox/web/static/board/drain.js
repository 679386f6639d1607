// @ts-check
// A counselor going off shift, from her card (POST /api/counselors/{id}/drain): hand her open
// conversations back to the queue with a handover note (the server's own words when none is
// written), or keep them with her; her presence after (offline or away). What it did (how many
// went back, how many stayed) is said in the page's live region.

import { t, label } from "../i18n.js";
import { api } from "../lib/api.js";
import { byId } from "../lib/dom.js";
import { announce, boardCounselor, counselorName, focusBack, showError, signedOut } from "./action_kit.js";
import { refresh } from "./state.js";

function drainEls() {
  return {
    dialog: byId("drain-dialog", HTMLDialogElement),
    form: byId("drain-form", HTMLFormElement),
    heading: byId("drain-heading", HTMLElement),
    what: byId("drain-what", HTMLElement),
    requeue: byId("drain-requeue", HTMLInputElement),
    keep: byId("drain-keep", HTMLInputElement),
    note: byId("drain-note", HTMLTextAreaElement),
    presence: byId("drain-presence", HTMLSelectElement),
    error: byId("drain-error", HTMLElement),
    cancel: byId("drain-cancel", HTMLButtonElement),
    confirm: byId("drain-confirm", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof drainEls> | null} */
let d = null;
/** Her name and her open conversations when the dialog opened. @type {{id: number, name: string, load: number | null} | null} */
let who = null;
/** @type {HTMLElement | null} */
let opener = null;

function renderText() {
  if (!d || !who) return;
  d.heading.textContent = t("drain.heading", { name: who.name });
  d.what.textContent = who.load === null ? t("drain.whatUnknown") : t("drain.what", { n: who.load });
}

/**
 * Ask how she goes off shift.
 * @param {number} id
 * @param {HTMLElement | null} from where focus goes back
 */
export function openDrain(id, from) {
  if (!d) return;
  const dlg = d;
  opener = from;
  dlg.requeue.checked = true;
  dlg.note.value = "";
  dlg.presence.value = "offline";
  dlg.confirm.disabled = false;
  showError(dlg.error, null);
  const her = boardCounselor(id);
  who = { id, name: counselorName(id), load: her ? Number(her.load) : null };
  dlg.dialog.dataset.counselorId = String(id);
  renderText();
  if (!dlg.dialog.open) dlg.dialog.showModal();
  dlg.requeue.focus();
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!d || !who) return;
  const dlg = d;
  const her = who;
  const keep = dlg.keep.checked;
  const note = dlg.note.value.trim();
  const presence = dlg.presence.value;
  dlg.confirm.disabled = true;
  let data;
  try {
    data = await api("POST", `/api/counselors/${encodeURIComponent(her.id)}/drain`, {
      keep,
      presence,
      ...(note && !keep ? { note } : {}),
    });
  } catch (err) {
    dlg.confirm.disabled = false;
    if (signedOut(err)) return;
    showError(dlg.error, err);
    return;
  }
  dlg.confirm.disabled = false;
  const count = (/** @type {unknown} */ list) => (Array.isArray(list) ? list.length : 0);
  const said = t("drain.done", {
    name: her.name,
    requeued: count(data && data.requeued),
    kept: count(data && data.kept),
    presence: label("desk.presence", presence),
  });
  const failed = count(data && data.failed);
  announce(failed ? `${said} ${t("drain.failed", { n: failed })}` : said);
  dlg.dialog.close();
  refresh().catch(() => {});
}

export function renderDrain() {
  renderText();
}

export function bindDrain() {
  d = drainEls();
  const dlg = d;
  dlg.form.addEventListener("submit", onSubmit);
  dlg.cancel.addEventListener("click", () => dlg.dialog.close());
  const noteFollows = () => {
    dlg.note.disabled = dlg.keep.checked; // a note goes with what is handed back only
  };
  dlg.requeue.addEventListener("change", noteFollows);
  dlg.keep.addEventListener("change", noteFollows);
  dlg.dialog.addEventListener("close", () => {
    dlg.note.disabled = false;
    focusBack(opener);
    opener = null;
  });
}
