// @ts-check
// The board's data and its renders: the newest board (GET /api/board, or a frame pushed on the
// staff socket), what the supervisor selected, and who is told of each render. Other modules (the
// actions: move, drag, drain, profiles) read the board here and hear of each render with
// onBoardRender(fn); they never fetch it themselves.

import { api, ApiError } from "../lib/api.js";

/**
 * @typedef {object} BoardConversation
 * @property {number} id
 * @property {string} contact_alias
 * @property {string} channel
 * @property {string} status
 * @property {number} priority
 * @property {boolean} urgent
 * @property {string | null} urgency
 * @property {number | null} assignee_id
 * @property {string | null} waiting_since
 * @property {number | null} waiting_s
 * @property {string | null} due
 * @property {number | null} seconds_left
 */

/**
 * @typedef {object} BoardCounselor
 * @property {number} id
 * @property {string | null} display_name
 * @property {string} presence
 * @property {boolean} on_shift
 * @property {number} load
 * @property {number} capacity
 * @property {Record<string, number>} channel_load
 * @property {Record<string, number>} channel_capacity
 * @property {boolean} connected
 * @property {string | null} last_assigned_at
 * @property {number | null} since_last_assignment_s
 * @property {number} due_soon
 * @property {number} overdue
 * @property {number[]} conversation_ids
 */

/**
 * @typedef {object} QueueRow
 * @property {string} channel
 * @property {number} priority
 * @property {number} count
 * @property {string} oldest
 * @property {number} oldest_waiting_s
 * @property {boolean} paused
 */

/**
 * @typedef {object} ChannelState
 * @property {string} channel
 * @property {boolean} paused
 * @property {string | null} since
 * @property {number | null} by_id
 * @property {string | null} by_name
 */

/**
 * @typedef {object} Waits
 * @property {string} day
 * @property {number} count
 * @property {number | null} median_s
 * @property {number | null} p90_s
 * @property {number} target_s
 * @property {number} over_target
 */

/**
 * @typedef {object} Acknowledgement
 * @property {number} by_id
 * @property {string | null} by_name
 * @property {string} at
 */

/**
 * @typedef {object} BoardAlert
 * @property {number} event_id
 * @property {string} kind
 * @property {string} at
 * @property {number | null} conversation_id
 * @property {string | null} reason
 * @property {number | null} user_id
 * @property {string | null} user_name
 * @property {Acknowledgement | null} acknowledged
 */

/**
 * LINE's monthly message quota (inbox/web/overview.py), read at most every 5 minutes.
 * @typedef {object} LineQuota
 * @property {"ok" | "unavailable"} state unavailable: LINE could not be asked (numbers null)
 * @property {number | null} limit null with state ok: no monthly limit
 * @property {number | null} used pushes this month
 * @property {number | null} remaining
 * @property {number | null} percent used / limit, rounded down
 * @property {boolean} warn used reached warn_percent of the limit
 * @property {boolean} exhausted used reached the limit
 * @property {number} warn_percent
 * @property {string} read_at when LINE was asked
 */

/**
 * @typedef {object} LineFriends friends added (follows) and lost (unfollows), Asia/Tokyo days
 * @property {{added: number, lost: number}} today
 * @property {{added: number, lost: number}} month this month so far
 * @property {string} read_at when they were counted
 */

/**
 * @typedef {object} Board
 * @property {number} event_id the newest event it reflects
 * @property {string} now
 * @property {BoardCounselor[]} counselors
 * @property {QueueRow[]} queue
 * @property {number} waiting_total
 * @property {ChannelState[]} channels
 * @property {Waits} waits
 * @property {number} due_soon_s a response deadline closer than this is near
 * @property {BoardConversation[]} waiting
 * @property {BoardConversation[]} assigned
 * @property {BoardAlert[]} alerts
 * @property {{id: number, display_name: string | null} | null} on_call who the rota has on call now
 * @property {LineQuota | null} [line_quota] LINE's monthly quota; null when LINE is off
 * @property {LineFriends | null} [line_friends] LINE friends added and lost; null when LINE is off
 */

/** @type {Board | null} */
let current = null;
/** @type {Set<(board: Board) => void>} */
const renderers = new Set();
/** @type {Set<(board: Board) => void>} */
const listeners = new Set();
let held = 0;
let pending = false;
/** The server's clock less ours, in ms, from the newest board's `now` (waits are aged by it). */
let clockOffset = 0;
/** Lets renders go again once the pointer button is up (a click lands on what it pressed). @type {(() => void) | null} */
let pointerHold = null;
let pointerWired = false;

/** @type {Set<number>} The conversations she has ticked (input.board-select), kept across renders. */
export const selected = new Set();

/** The board shown now, or null before the first one. */
export function getBoard() {
  return current;
}

/**
 * Be told after each render (a new board, a language switch, the clock's tick); called at once
 * with the current board if there is one. Returns a function that stops it.
 * @param {(board: Board) => void} fn
 */
export function onBoardRender(fn) {
  listeners.add(fn);
  if (current) fn(current);
  return () => listeners.delete(fn);
}

/**
 * A region of the page that draws itself from the board (the board's own modules).
 * @param {(board: Board) => void} fn
 */
export function addRenderer(fn) {
  renderers.add(fn);
}

/**
 * Take a board if it is not older than the one shown (frames and fetches may cross).
 * @param {Board} board
 */
export function setBoard(board) {
  if (!board || typeof board.event_id !== "number") return;
  if (current && board.event_id < current.event_id) return;
  current = board;
  const serverNow = Date.parse(board.now);
  if (!Number.isNaN(serverNow)) clockOffset = serverNow - Date.now();
  render();
}

/**
 * Fetch the board (on load, after a reconnect, after an action of hers); false when it could not
 * be had (the board shown stays, and the next frame or refetch brings it up to date). Refused
 * (403: an admin took her supervisor role, and her socket was closed for it), the page loads
 * again and says she may not see it, rather than keep a board she no longer may read.
 */
export async function refresh() {
  try {
    const data = await api("GET", "/api/board");
    if (data) setBoard(data);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) window.location.reload();
    return false;
  }
}

/**
 * Hold renders while something must not be redrawn under the pointer (a drag); the last board
 * is drawn when released.
 */
export function holdRenders() {
  held += 1;
  return () => {
    held = Math.max(0, held - 1);
    if (!held && pending) render();
  };
}

/** No redraw while a pointer button is down: a click (or a text selection) lands on what was
 * pressed. Wired once, by the first render. */
function holdWhilePressed() {
  if (pointerWired) return;
  pointerWired = true;
  const up = () => {
    const release = pointerHold;
    pointerHold = null;
    if (release) release();
  };
  document.addEventListener(
    "pointerdown",
    () => {
      up();
      pointerHold = holdRenders();
    },
    true,
  );
  // let go after the click that follows the button going up (its change handler runs first)
  for (const name of ["pointerup", "pointercancel"]) window.addEventListener(name, () => setTimeout(up, 0), true);
  window.addEventListener("blur", up);
}

/**
 * Draw the current board again. Each region draws in place, by key (lib/dom.js morphChildren):
 * the focused control stays the same element, so focus is never moved; only when the element
 * that had it is gone does its successor (the same data-focus-key) get it.
 */
export function render() {
  if (!current) return;
  holdWhilePressed();
  if (held) {
    pending = true;
    return;
  }
  pending = false;
  const active = document.activeElement;
  const key = active instanceof HTMLElement ? active.dataset.focusKey : undefined;
  const board = current;
  for (const fn of renderers) fn(board);
  if (key && (!(active instanceof HTMLElement) || !active.isConnected)) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
  for (const fn of listeners) fn(board);
}

/** The server's time now, in ms (our clock corrected by the newest board's `now`). */
export function serverNow() {
  return Date.now() + clockOffset;
}

/** Milliseconds since `iso` as the board's (the server's) clock sees it now; null without a time. @param {string | null} iso */
export function ageMs(iso) {
  if (!iso) return null;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : Math.max(0, serverNow() - at);
}
