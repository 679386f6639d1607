// @ts-check
// A conversation given to her by someone else (a supervisor's move, with an optional handover
// note): a notice names who gave it and shows the note, with a button to open it. The queue
// refetches itself on the same frame (live.js); the giver's side is together.js's ("moved to B
// by S"); an urgent one also gets urgency.js's banner.
//
// The note is read with GET /api/conversations/{id}/handover (who gave it, when, the note),
// which neither opens the offer (the router's offer timeout still applies until she opens it)
// nor counts as her reading the conversation (the audit log records no read).

import { t, parseTime } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { state } from "./state.js";
import { endSession } from "./session.js";
import { onLiveFrame } from "./live.js";
import { loadStaffNames, nameOf } from "./together.js";

const MAX_NOTICES = 5;

/**
 * @typedef {object} Notice
 * @property {number} conversationId
 * @property {number} by who gave it to her
 * @property {number} at when (ms)
 * @property {string} alias
 * @property {string | null} note
 * @property {HTMLElement} node
 */

/** @type {Notice[]} newest first */
let notices = [];
/** @type {(id: number) => void} */
let open = () => {};
/** @type {HTMLElement | null} */
let region = null;

/** @param {any} evt */
function givenToMe(evt) {
  if (!state.me || evt.kind !== "conversation_assigned") return false;
  const me = String(state.me.id);
  const by = evt.actor_id;
  return String(evt.to_user_id) === me && by !== null && by !== undefined && String(by) !== me;
}

/** Only what differs is written: the region is a live one, and words written again are read again.
 * @param {Element | null} node @param {string} text */
function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

/** @param {Notice} n */
function render(n) {
  setText(n.node.querySelector(".handover-text"), t("handover.given", { by: nameOf(n.by), alias: n.alias }));
  const note = n.node.querySelector(".handover-note");
  if (note instanceof HTMLElement) {
    note.hidden = n.note === null;
    setText(note, n.note === null ? "" : t("handover.note", { note: n.note }));
  }
  setText(n.node.querySelector(".handover-open"), t("handover.open"));
  const close = n.node.querySelector(".handover-dismiss");
  if (close) {
    setText(close, t("handover.dismiss"));
    const aria = t("handover.dismissAria", { alias: n.alias });
    if (close.getAttribute("aria-label") !== aria) close.setAttribute("aria-label", aria);
  }
}

/** @param {Notice} n */
function dismiss(n) {
  n.node.remove();
  notices = notices.filter((x) => x !== n);
}

/** @param {number} id @param {number} by @param {number} at */
function raise(id, by, at) {
  for (const same of notices.filter((x) => x.conversationId === id)) dismiss(same);
  const node = el("div", "handover-notice");
  node.dataset.testid = "handover-notice";
  node.dataset.conversationId = String(id);
  const openButton = el("button", "btn btn-small handover-open");
  openButton.type = "button";
  openButton.dataset.testid = "handover-open";
  const close = el("button", "btn btn-small btn-quiet handover-dismiss");
  close.type = "button";
  close.dataset.testid = "handover-dismiss";
  const note = el("p", "handover-note");
  note.dataset.testid = "handover-note";
  node.append(el("p", "handover-text"), note, openButton, close);
  /** @type {Notice} */
  const n = { conversationId: id, by, at, alias: `#${id}`, note: null, node };
  openButton.addEventListener("click", () => {
    dismiss(n);
    open(id);
  });
  close.addEventListener("click", () => dismiss(n));
  notices.unshift(n);
  while (notices.length > MAX_NOTICES) dismiss(notices[notices.length - 1]);
  render(n);
  return n; // shown (show) once its words are whole
}

/** Put the notice in the live region once, with the giver's name, the alias and the note in
 * it: written in pieces, each piece would be read out again. @param {Notice} n */
function show(n) {
  render(n);
  if (region && notices.includes(n) && !n.node.isConnected) region.prepend(n.node);
}

/** Read the conversation's alias and the giver's note (if any) into the notice: only the
 * handover itself (GET .../handover), which is no read of the conversation (nothing audited, no
 * message loaded but the note). @param {Notice} n */
async function loadNote(n) {
  const id = encodeURIComponent(n.conversationId);
  let data;
  try {
    data = await api("GET", `/api/conversations/${id}/handover`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) endSession("login.expired");
    return; // the notice still names who gave it
  }
  if (!notices.includes(n) || !data) return;
  if (data.contact_alias) n.alias = String(data.contact_alias);
  const given = data.handover;
  if (given && String(given.by_id) === String(n.by) && typeof given.note === "string") n.note = given.note;
  render(n);
}

/** @param {any} msg */
function onFrame(msg) {
  if (msg.type !== "events" || !Array.isArray(msg.events)) return;
  for (const evt of msg.events) {
    const id = Number(evt.conversation_id);
    if (!Number.isFinite(id) || id <= 0) continue;
    if (givenToMe(evt)) {
      const at = parseTime(evt.at)?.getTime() ?? Date.now();
      const n = raise(id, Number(evt.actor_id), at);
      const names = nameKnown(n.by) ? null : loadStaffNames().catch(() => {});
      Promise.all([names, loadNote(n)]).finally(() => show(n));
    } else if (evt.kind === "note_added") {
      // the note may come in a later frame than the move
      const n = notices.find((x) => x.conversationId === id && String(x.by) === String(evt.actor_id));
      if (n && n.note === null) loadNote(n);
    }
  }
}

/** @param {number} id */
function nameKnown(id) {
  return nameOf(id) !== t("live.someone");
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let liveAgain;

/** Re-word the notices (the language changed), quietly: a language switch is no news. */
export function renderHandover() {
  if (region && notices.length) {
    const live = region;
    live.setAttribute("aria-live", "off");
    clearTimeout(liveAgain);
    liveAgain = setTimeout(() => live.removeAttribute("aria-live"), 500);
  }
  for (const n of notices) render(n);
}

/** Forget every notice (the session ended). */
export function resetHandover() {
  for (const n of [...notices]) dismiss(n);
}

/**
 * Listen for conversations given to her; a notice's button opens its conversation with `onOpen`.
 * @param {(id: number) => void} onOpen
 */
export function bindHandover(onOpen) {
  open = onOpen;
  region = byId("handover-notices", HTMLElement);
  onLiveFrame(onFrame);
}
