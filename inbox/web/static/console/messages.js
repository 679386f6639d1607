// @ts-check
// The open conversation's messages: rendered once, updated in place when they change.

import { t, formatTime, formatFullTime, label } from "../i18n.js";
import { el } from "../lib/dom.js";
import { state, els } from "./state.js";
import { failureText } from "./failure.js";

/** @typedef {import("./types.js").Message} Message */

/** @param {number} n */
function formatSize(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`;
  return `${(b / (1024 * 1024)).toFixed(1)} MB`;
}

/** @param {Message} m */
function authorText(m) {
  if (m.author_id === null || m.author_id === undefined) return "";
  if (state.me && String(m.author_id) === String(state.me.id)) return t("conv.author.me");
  // --- desk: the author's name, never an id
  return m.author_name ? t("conv.author.named", { name: m.author_name }) : t("conv.author.unknown");
}

/** @param {HTMLLIElement} li @param {Message} m */
function fillMessage(li, m) {
  li.replaceChildren();
  const dir = m.direction;
  // An outbound message no person wrote: an auto-reply or the safety message, told apart from
  // a counselor's so nobody takes it for one of hers.
  const automatic = dir === "outbound" && (m.author_id === null || m.author_id === undefined);
  li.className = `cmsg cmsg-${dir}${automatic ? " cmsg-automatic" : ""}`;
  li.dataset.direction = dir;
  li.dataset.delivery = m.delivery_status || "none";

  const head = el("div", "cmsg-head");
  head.append(el("span", "cmsg-from", automatic ? t("conv.automatic") : label("conv.from", dir)));
  const author = authorText(m);
  if (author && dir !== "inbound") head.append(el("span", "cmsg-author", `（${author}）`));
  const time = el("time", "cmsg-time", formatTime(m.created_at));
  time.dateTime = m.created_at || "";
  time.title = formatFullTime(m.created_at);
  head.append(time);
  if (dir === "outbound" && m.delivery_status && m.delivery_status !== "none") {
    head.append(el("span", `cmsg-delivery delivery-${m.delivery_status}`, label("delivery", m.delivery_status)));
  }
  if (readByConsulter(m)) head.append(el("span", "cmsg-read", t("live.read")));
  li.append(head, el("p", "cmsg-body", m.body ?? ""));
  // --- sms, line: why a reply was not delivered, under it (a short reason, never an address)
  if (dir === "outbound" && m.delivery_status === "failed" && m.failure_reason) {
    const reason = failureText(m.failure_reason, state.conv ? state.conv.channel : "");
    const why = el("p", "cmsg-failure", t("sms.failedBecause", { reason }));
    why.dataset.testid = "conv-failure";
    li.append(why);
  }

  const atts = Array.isArray(m.attachments) ? m.attachments : [];
  if (atts.length) {
    const ul = el("ul", "cmsg-attachments");
    ul.setAttribute("aria-label", t("conv.attachments"));
    for (const a of atts) {
      const name = a.filename || a.name || "";
      const extra = [
        a.content_type,
        a.size_bytes !== undefined ? formatSize(a.size_bytes) : null,
        a.stored === false ? t("conv.attachment.notStored") : null,
      ]
        .filter(Boolean)
        .join(", ");
      const text = extra ? `${name} (${extra})` : name;
      const item = el("li", "cmsg-attachment");
      if (a.download_url) {
        const link = el("a", "cmsg-attachment-link", text);
        link.href = a.download_url;
        link.download = name;
        item.append(link);
      } else {
        item.textContent = text;
      }
      ul.append(item);
    }
    li.append(ul);
  }
}

/**
 * Whether the consulter's page showed her this reply (web chat tells; other channels cannot).
 * @param {Message} m
 */
function readByConsulter(m) {
  const c = state.conv;
  if (m.direction !== "outbound" || !c || c.channel !== "webchat") return false;
  const upTo = c.consulter_read_message_id;
  return upTo !== null && upTo !== undefined && Number(m.id) <= Number(upTo);
}

/** @param {Message} m */
function messageSignature(m) {
  const read = readByConsulter(m) ? "read" : "";
  return `${m.direction}|${m.delivery_status}|${m.failure_reason}|${m.body}|${(m.attachments || []).length}|${m.author_name}|${read}`;
}

/** Add a message to the open conversation, or update it in place if its content changed. @param {Message} m */
export function upsertMessage(m) {
  const key = String(m.id);
  const sig = messageSignature(m);
  let li = state.messageEls.get(key);
  if (li) {
    if (li.dataset.sig !== sig) {
      fillMessage(li, m);
      li.dataset.sig = sig;
    }
  } else {
    li = el("li");
    li.setAttribute("data-testid", "conv-message");
    li.dataset.messageId = key;
    fillMessage(li, m);
    li.dataset.sig = sig;
    state.messageEls.set(key, li);
    els.convMessages.append(li);
  }
  state.messageData.set(key, m);
}

/**
 * Render the full message list of the open conversation (from a GET).
 * @param {Message[]} messages
 * @param {boolean} fresh the conversation was just opened: scroll to the end, announce nothing
 */
export function renderMessages(messages, fresh) {
  const list = els.convMessages;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  if (fresh) list.setAttribute("aria-live", "off"); // don't read the whole backlog aloud
  const seen = new Set();
  for (const m of messages) {
    seen.add(String(m.id));
    upsertMessage(m);
  }
  for (const [key, li] of state.messageEls) {
    if (!seen.has(key)) {
      li.remove();
      state.messageEls.delete(key);
      state.messageData.delete(key);
    }
  }
  els.convNoMsg.hidden = messages.length > 0;
  if (fresh || nearBottom) list.scrollTop = list.scrollHeight;
  if (fresh) requestAnimationFrame(() => list.setAttribute("aria-live", "polite"));
}

/** Re-render every shown message from memory (after a language change). */
export function rerenderMessages() {
  for (const [key, li] of state.messageEls) {
    const m = state.messageData.get(key);
    if (m) fillMessage(li, m);
  }
}

/** Forget the shown messages and empty the list. */
export function clearMessages() {
  state.messageEls.clear();
  state.messageData.clear();
  els.convMessages.replaceChildren();
}
