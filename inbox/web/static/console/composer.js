// @ts-check
// The reply box: a reply or an internal note, with a draft kept per conversation.

import { t } from "../i18n.js";
import { state, els } from "./state.js";
import { call } from "./session.js";
import { refreshQueue } from "./queue.js";
import { onConversationLeave, onConversationOpen, refreshOpen } from "./conversation.js";
import { upsertMessage } from "./messages.js";
import { sendReply } from "./together.js";
import { renderSms, smsMaySend } from "./sms.js";
import { optOutMaySend, renderOptOut } from "./optout.js";

/** Keep what is in the box as the open conversation's draft. */
export function saveDraft() {
  if (state.openId === null) return;
  state.drafts.set(state.openId, { text: els.replyInput.value, note: els.noteToggle.checked });
}

/** Put a conversation's draft (or nothing) in the box. @param {number} id */
function restoreDraft(id) {
  const d = state.drafts.get(id);
  els.replyInput.value = d ? d.text : "";
  els.noteToggle.checked = d ? d.note : false;
  renderComposerMode();
}

/** Label, placeholder and button for the mode: reply or note. */
export function renderComposerMode() {
  const note = els.noteToggle.checked;
  els.replyForm.classList.toggle("is-note", note);
  els.replyLabel.textContent = note ? t("conv.noteLabel") : t("conv.replyLabel");
  els.replyInput.setAttribute("placeholder", note ? t("conv.notePlaceholder") : t("conv.replyPlaceholder"));
  els.replySend.textContent = state.sending ? t("conv.sending") : note ? t("conv.saveNote") : t("conv.sendReply");
  renderSms(); // --- sms: the segment count follows the box and its mode
  renderOptOut(); // --- line: a reply to a consulter who opted out stays held back, a note does not
}

/** Empty the box and forget every draft (the session ended). */
export function resetComposer() {
  state.drafts.clear();
  els.replyInput.value = "";
  els.noteToggle.checked = false;
}

/** @param {Event} e */
async function onReplySubmit(e) {
  e.preventDefault();
  if (state.sending || state.openId === null) return;
  const body = els.replyInput.value;
  if (!body.trim()) {
    els.replyInput.focus();
    return;
  }
  const id = state.openId;
  const note = els.noteToggle.checked;
  if (!note && !optOutMaySend()) return; // --- line: she opted out (SMS STOP, LINE block)
  if (!note && !smsMaySend(body)) return; // --- sms: over the limit (asks again)
  state.sending = true;
  els.replySend.disabled = true;
  renderComposerMode();
  const path = `/api/conversations/${encodeURIComponent(id)}/${note ? "notes" : "replies"}`;
  // A reply says which message she saw last, and asks first if someone else replied since.
  const data = note ? await call("POST", path, { body }) : await sendReply(path, body);
  state.sending = false;
  els.replySend.disabled = false;
  renderComposerMode();
  if (!data) return; // the error is shown; the text stays in the box
  if (state.openId === id) {
    els.replyInput.value = "";
    // Stay in the mode the counselor chose (switching a note box to "reply" silently would be risky).
    state.drafts.set(id, { text: "", note });
    if (data.message && data.message.id !== undefined) {
      upsertMessage(data.message);
      els.convNoMsg.hidden = true;
    }
    els.convMessages.scrollTop = els.convMessages.scrollHeight;
    els.replyInput.focus();
  } else {
    state.drafts.delete(id);
  }
  refreshOpen();
  refreshQueue();
}

export function bindComposer() {
  onConversationLeave(saveDraft);
  onConversationOpen(restoreDraft);
  els.replyForm.addEventListener("submit", onReplySubmit);
  els.noteToggle.addEventListener("change", () => {
    renderComposerMode();
    saveDraft();
  });
  els.replyInput.addEventListener("input", saveDraft);
  els.replyInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing) {
      e.preventDefault();
      els.replyForm.requestSubmit();
    }
  });
  renderComposerMode();
}
