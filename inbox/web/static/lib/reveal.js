// @ts-check
// Revealing a pseudonymous consulter's address with a reason (inbox/web/contact.py), for every
// page that offers it (the console's conversation head, the phone desk's call screen). The server
// decides whether it is offered (GET .../contact: `revealable`; `address` when her privacy mode
// shows it anyway) and audits the reveal before the address comes back. Nothing is kept here:
// the page shows the address while she stays on that conversation, and forgets it after.
//
// The dialog's markup is the same on each page: #reveal-dialog, #reveal-form, #reveal-reason,
// #reveal-error, #reveal-cancel, #reveal-confirm.

import { t } from "../i18n.js";
import { api, ApiError } from "./api.js";
import { byId } from "./dom.js";

export const MAX_REASON = 500; // inbox/web/contact.py MAX_REASON_CHARS

/**
 * @typedef {object} Contact what GET /api/conversations/{id}/contact says of her
 * @property {string} alias
 * @property {string} anonymity
 * @property {boolean} discretion
 * @property {string | null} address shown without a reveal (her privacy mode allows it)
 * @property {boolean} revealable whether this staff member may reveal it, with a reason
 */

/** @typedef {{address: string, channel: string}} Revealed */

/**
 * Her contact as the server lets this staff member see it (throws ApiError).
 * @param {number} id the conversation
 * @returns {Promise<Contact | null>}
 */
export async function loadContact(id) {
  const data = await api("GET", `/api/conversations/${encodeURIComponent(id)}/contact`);
  return data && data.contact ? data.contact : null;
}

/**
 * The reveal dialog of this page, wired once. `ask(id)` opens it for a conversation and resolves
 * with the address once the server has audited the reveal, or null when she cancels; a 401
 * closes it and calls `onUnauthorized`. A reason is required before anything is sent.
 * @param {{onUnauthorized: () => void}} hooks
 * @returns {{ask: (id: number) => Promise<Revealed | null>, close: () => void}}
 */
export function bindRevealDialog(hooks) {
  const dialog = byId("reveal-dialog", HTMLDialogElement);
  const form = byId("reveal-form", HTMLFormElement);
  const reason = byId("reveal-reason", HTMLTextAreaElement);
  const error = byId("reveal-error", HTMLElement);
  const cancel = byId("reveal-cancel", HTMLButtonElement);
  const confirm = byId("reveal-confirm", HTMLButtonElement);
  reason.maxLength = MAX_REASON;
  /** @type {{id: number, done: (r: Revealed | null) => void} | null} */
  let pending = null;

  /** @param {Revealed | null} result */
  const finish = (result) => {
    const p = pending;
    pending = null;
    if (dialog.open) dialog.close();
    if (p) p.done(result);
  };
  /** @param {string} text */
  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
    reason.focus();
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const p = pending;
    if (!p) return;
    const why = reason.value.trim();
    if (!why) return fail(t("reveal.needReason"));
    confirm.disabled = true;
    let data;
    try {
      data = await api("POST", `/api/conversations/${encodeURIComponent(p.id)}/reveal`, { reason: why });
    } catch (err) {
      confirm.disabled = false;
      if (err instanceof ApiError && err.status === 401) {
        finish(null);
        hooks.onUnauthorized();
        return;
      }
      if (err instanceof ApiError && err.field === "reason") return fail(t("reveal.needReason"));
      return fail((err instanceof Error && err.message) || t("error.network"));
    }
    confirm.disabled = false;
    if (pending !== p) return; // closed meanwhile
    const ok = data && typeof data.address === "string";
    finish(ok ? { address: data.address, channel: String(data.channel || "") } : null);
  });
  cancel.addEventListener("click", () => finish(null));
  // Escape closes it too; a close event that comes after she reopened it is the old one's
  dialog.addEventListener("close", () => {
    if (!dialog.open) finish(null);
  });

  return {
    ask(id) {
      finish(null); // one question at a time
      reason.value = "";
      error.hidden = true;
      error.textContent = "";
      confirm.disabled = false;
      dialog.dataset.conversationId = String(id);
      dialog.showModal();
      reason.focus();
      return new Promise((done) => {
        pending = { id, done };
      });
    },
    close() {
      finish(null);
    },
  };
}
