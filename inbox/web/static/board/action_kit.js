// @ts-check
// What the board's actions share (move.js, drain.js, counselor_editor.js): the live region that
// says what an action did, the counselors a conversation can go to, the words for a
// conversation and a counselor as the board shows them, and a dialog's error line.

import { t, label } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId } from "../lib/dom.js";
import { showFormError } from "../lib/forms.js";
import { toSignIn } from "../lib/staff_page.js";
import { getBoard } from "./state.js";

/**
 * A counselor as GET /api/supervision lists her (the routing snapshot: every enabled counselor).
 * @typedef {object} CounselorLoad
 * @property {number} id
 * @property {string | null} display_name
 * @property {string} presence
 * @property {boolean} on_shift
 * @property {number} load
 * @property {number} capacity
 */

const SHOWN_MS = 20000; // then the note goes, not to cover the board for good
/** @type {ReturnType<typeof setTimeout> | undefined} */
let shownTimer;

/** Say what an action did, in the page's live region (read once by a screen reader). @param {string} text */
export function announce(text) {
  const live = byId("board-action-live", HTMLElement);
  live.textContent = "";
  clearTimeout(shownTimer);
  // emptied first, so that the same words twice are read twice
  requestAnimationFrame(() => {
    live.textContent = text;
    shownTimer = setTimeout(() => {
      live.textContent = "";
    }, SHOWN_MS);
  });
}

/** The counselors (for the move dialog's list), fresh each time it opens. @returns {Promise<CounselorLoad[]>} */
export async function loadCounselors() {
  const data = await api("GET", "/api/supervision");
  const list = data && Array.isArray(data.counselors) ? data.counselors : [];
  return /** @type {CounselorLoad[]} */ (list);
}

/** Her name as the board shows it: her card's, else the counselors list's, else her number. @param {number} id @param {CounselorLoad[]} [known] */
export function counselorName(id, known = []) {
  const found = known.find((c) => Number(c.id) === id) || boardCounselor(id);
  return found && found.display_name ? found.display_name : t("actions.counselorNumber", { id });
}

/** "佐藤（対応可能・2/3件）" for the move dialog's list. @param {CounselorLoad} c */
export function counselorOption(c) {
  return t("move.option", {
    name: c.display_name || t("actions.counselorNumber", { id: c.id }),
    presence: label("desk.presence", c.presence),
    load: c.load,
    capacity: c.capacity,
  });
}

/** A conversation as the board names it (her alias), else by its number. @param {number} id */
export function conversationName(id) {
  const board = getBoard();
  const all = board ? [...board.waiting, ...board.assigned] : [];
  const found = all.find((c) => Number(c.id) === id);
  return found && found.contact_alias ? found.contact_alias : t("actions.convNumber", { id });
}

/** Her counselor entry on the board now, if she is on it. @param {number} id */
export function boardCounselor(id) {
  const board = getBoard();
  return board ? board.counselors.find((c) => Number(c.id) === id) || null : null;
}

/**
 * A dialog's error line: the error's words (the server's code in the page's language, naming
 * the field) or `text`; null hides it.
 * @param {HTMLElement} line
 * @param {unknown} err an ApiError, a string, or null
 */
export function showError(line, err) {
  if (err === null) return showFormError(line, null);
  showFormError(line, typeof err === "string" ? err : err instanceof Error && err.message ? err.message : t("error.network"));
}

/** Whether the error ended the session (the page goes back to sign-in). @param {unknown} err */
export function signedOut(err) {
  if (err instanceof ApiError && err.status === 401) {
    toSignIn();
    return true;
  }
  return false;
}

/**
 * Give focus back to what opened a dialog: the element itself, or, when the board redrew it
 * meanwhile, the one that took its place (the same data-focus-key).
 * @param {HTMLElement | null} opener
 * @returns {boolean} whether something took the focus
 */
export function focusBack(opener) {
  if (!opener) return false;
  let target = opener.isConnected ? opener : null;
  const key = opener.dataset.focusKey;
  if (!target && key) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    target = again instanceof HTMLElement ? again : null;
  }
  if (!target) return false;
  target.focus();
  return document.activeElement === target;
}
