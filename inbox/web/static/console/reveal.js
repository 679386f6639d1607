// @ts-check
// Revealing a pseudonymous consulter's address, with a reason, in the conversation's head. The
// dialog and the server's part are lib/reveal.js (the phone desk's call screen uses them too);
// here: the button is offered when the server says so, and the address is shown once, until she
// leaves the conversation. Nothing of it is kept in the page.

import { t } from "../i18n.js";
import { ApiError } from "../lib/api.js";
import { byId } from "../lib/dom.js";
import { bindRevealDialog, loadContact } from "../lib/reveal.js";
import { state } from "./state.js";
import { endSession } from "./session.js";
import { onConversationLeave, onConversationOpen } from "./conversation.js";

function revealEls() {
  return {
    button: byId("reveal-button", HTMLButtonElement),
    shown: byId("conv-revealed", HTMLElement),
  };
}

/** @type {ReturnType<typeof revealEls> | null} */
let r = null;
/** @type {ReturnType<typeof bindRevealDialog> | null} */
let dialog = null;
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
  dialog?.close();
}

/** Ask the server whether this conversation's address may be revealed by her. @param {number} id */
async function offer(id) {
  const mine = ++seq;
  let contact;
  try {
    contact = await loadContact(id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) endSession("login.expired");
    return; // nothing offered: the conversation view says what else went wrong
  }
  if (!r || mine !== seq || state.openId !== id) return;
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

async function ask() {
  if (!r || !dialog || state.openId === null) return;
  const id = state.openId;
  const got = await dialog.ask(id);
  if (!r || !got || state.openId !== id) return;
  revealed = { id, ...got };
  r.button.hidden = true;
  renderReveal();
  r.shown.focus();
}

export function bindReveal() {
  r = revealEls();
  dialog = bindRevealDialog({ onUnauthorized: () => endSession("login.expired") });
  r.button.addEventListener("click", () => void ask());
  onConversationOpen((id) => {
    resetReveal();
    offer(id);
  });
  onConversationLeave(resetReveal);
}
