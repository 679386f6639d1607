// @ts-check
// Revealing a pseudonymous consulter's address, with a reason (inbox/web/contact.py). The
// server decides whether it is offered (GET .../contact: `revealable`, false for her role, for an
// anonymous consulter and for a web-chat session, which has no address and is never audited);
// the reveal is audited before the address comes back, and the address is shown once, in the
// conversation's head, until she leaves the conversation. Nothing of it is kept in the page.

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId } from "../lib/dom.js";
import { state } from "./state.js";
import { endSession } from "./session.js";
import { onConversationLeave, onConversationOpen } from "./conversation.js";

const MAX_REASON = 500;

function revealEls() {
  return {
    button: byId("reveal-button", HTMLButtonElement),
    shown: byId("conv-revealed", HTMLElement),
    dialog: byId("reveal-dialog", HTMLDialogElement),
    form: byId("reveal-form", HTMLFormElement),
    reason: byId("reveal-reason", HTMLTextAreaElement),
    error: byId("reveal-error", HTMLElement),
    cancel: byId("reveal-cancel", HTMLButtonElement),
    confirm: byId("reveal-confirm", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof revealEls> | null} */
let r = null;
/** The revealed address and its channel, while her conversation stays open. @type {{id: number, address: string, channel: string} | null} */
let revealed = null;
let seq = 0;

/** Forget what was offered and shown (she left the conversation, or the session ended). */
export function resetReveal() {
  seq++;
  revealed = null;
  if (!r) return;
  r.button.hidden = true;
  r.shown.hidden = true;
  r.shown.textContent = "";
  if (r.dialog.open) r.dialog.close();
}

/** Ask the server whether this conversation's address may be revealed by her. @param {number} id */
async function loadContact(id) {
  const mine = ++seq;
  let data;
  try {
    data = await api("GET", `/api/conversations/${encodeURIComponent(id)}/contact`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) endSession("login.expired");
    return; // nothing offered: the conversation view says what else went wrong
  }
  if (!r || mine !== seq || state.openId !== id) return;
  const contact = data && data.contact;
  r.button.hidden = !(contact && contact.revealable === true) || revealed !== null;
}

export function renderReveal() {
  if (!r) return;
  if (revealed && revealed.id === state.openId) {
    r.shown.textContent = t("reveal.shown", { address: revealed.address });
    r.shown.hidden = false;
  } else {
    r.shown.textContent = "";
    r.shown.hidden = true;
  }
}

function ask() {
  if (!r || state.openId === null) return;
  r.reason.value = "";
  r.error.hidden = true;
  r.error.textContent = "";
  r.dialog.dataset.conversationId = String(state.openId);
  r.dialog.showModal();
  r.reason.focus();
}

/** @param {string} text */
function fail(text) {
  if (!r) return;
  r.error.textContent = text;
  r.error.hidden = false;
  r.reason.focus();
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!r) return;
  const dlg = r;
  const id = Number(dlg.dialog.dataset.conversationId);
  const reason = dlg.reason.value.trim();
  if (!reason) return fail(t("reveal.needReason"));
  dlg.confirm.disabled = true;
  let data;
  try {
    data = await api("POST", `/api/conversations/${encodeURIComponent(id)}/reveal`, { reason });
  } catch (err) {
    dlg.confirm.disabled = false;
    if (err instanceof ApiError && err.status === 401) {
      dlg.dialog.close();
      endSession("login.expired");
      return;
    }
    if (err instanceof ApiError && err.field === "reason") return fail(t("reveal.needReason"));
    return fail((err instanceof Error && err.message) || t("error.network"));
  }
  dlg.confirm.disabled = false;
  dlg.dialog.close();
  if (!data || typeof data.address !== "string" || state.openId !== id) return;
  revealed = { id, address: data.address, channel: String(data.channel || "") };
  dlg.button.hidden = true;
  renderReveal();
  dlg.shown.focus();
}

export function bindReveal() {
  r = revealEls();
  const dlg = r;
  dlg.reason.maxLength = MAX_REASON;
  dlg.button.addEventListener("click", ask);
  dlg.form.addEventListener("submit", onSubmit);
  dlg.cancel.addEventListener("click", () => dlg.dialog.close());
  onConversationOpen((id) => {
    resetReveal();
    loadContact(id);
  });
  onConversationLeave(resetReveal);
}
