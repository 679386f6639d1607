// @ts-check
// Moving conversations to a counselor, from the board (POST /api/conversations/move): select
// rows with their checkboxes and choose "Move…" in the selection bar (#board-selection), or drag
// a row (or the selection it belongs to) onto a counselor's card, or press M on a row; each way
// opens the same dialog: the counselor from a list, an optional handover note, Enter. Each id
// that could not move is listed with why; the result is said in the page's live region.
// Wired by event delegation on the board's regions, so the board may re-render them freely.

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import {
  announce,
  conversationName,
  counselorName,
  counselorOption,
  focusBack,
  loadCounselors,
  showError,
  signedOut,
} from "./action_kit.js";
import { holdRenders, refresh, render, selected } from "./state.js";

const DRAG_TYPE = "application/x-tsunagu-conversations";
const MAX_NAMED = 5; // the dialog names this many conversations, then counts the rest
export const MOVE_BATCH = 200; // the server moves at most this many in one call (MAX_MOVE)

/** What is being dragged (dataTransfer cannot be read during dragover). @type {number[]} */
let dragging = [];
/** Lets the board draw again once the drag ends (it holds still under the pointer). @type {(() => void) | null} */
let release = null;
/** @type {import("./action_kit.js").CounselorLoad[]} */
let counselors = [];
/** Where focus goes back when the dialog closes. @type {HTMLElement | null} */
let opener = null;

function moveEls() {
  return {
    board: byId("page-main", HTMLElement), // rows are in the waiting list and in the cards
    cards: byId("board-counselors", HTMLElement),
    bar: byId("board-selection", HTMLElement),
    dialog: byId("move-dialog", HTMLDialogElement),
    form: byId("move-form", HTMLFormElement),
    what: byId("move-what", HTMLElement),
    to: byId("move-to", HTMLSelectElement),
    note: byId("move-note", HTMLTextAreaElement),
    error: byId("move-error", HTMLElement),
    failures: byId("move-failures", HTMLUListElement),
    cancel: byId("move-cancel", HTMLButtonElement),
    confirm: byId("move-confirm", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof moveEls> | null} */
let m = null;
/** The selection bar's parts. @type {{count: HTMLElement, move: HTMLButtonElement, clear: HTMLButtonElement} | null} */
let bar = null;

/** @param {Element | null} node @returns {HTMLElement | null} */
function rowOf(node) {
  const row = node instanceof Element ? node.closest("li.board-conv[data-conversation-id]") : null;
  return row instanceof HTMLElement ? row : null;
}

/** @param {HTMLElement} row */
function rowId(row) {
  return Number(row.dataset.conversationId);
}

/** A row's conversations: the whole selection when the row is in it, else the row alone. @param {HTMLElement} row */
function idsFor(row) {
  const id = rowId(row);
  return selected.has(id) ? [...selected] : [id];
}

// ---- the selection ----------------------------------------------------------------------------

/** The board re-rendered (its rows tick themselves from the selection): mark the selected
 * rows and re-word the bar. */
export function syncSelection() {
  if (!m) return;
  for (const row of m.board.querySelectorAll("li.board-conv[data-conversation-id]")) {
    if (row instanceof HTMLElement) row.classList.toggle("is-selected", selected.has(rowId(row)));
  }
  renderBar();
}

function renderBar() {
  if (!bar) return;
  const n = selected.size;
  bar.count.textContent = n ? t("move.selected", { n }) : t("move.noneSelected");
  bar.move.textContent = t("move.open");
  bar.move.disabled = n === 0;
  bar.clear.textContent = t("move.clear");
  bar.clear.hidden = n === 0;
}

function buildBar() {
  if (!m) return;
  const count = el("span", "board-selection-count");
  count.dataset.testid = "board-selection-count";
  count.tabIndex = -1; // where focus goes back when what opened the dialog is gone
  const move = el("button", "btn btn-small btn-primary");
  move.type = "button";
  move.dataset.testid = "board-move";
  move.setAttribute("aria-keyshortcuts", "M");
  const clear = el("button", "btn btn-small btn-quiet");
  clear.type = "button";
  clear.dataset.testid = "board-selection-clear";
  m.bar.replaceChildren(count, move, clear);
  bar = { count, move, clear };
  move.addEventListener("click", () => {
    if (selected.size) openMove([...selected], null, move);
  });
  clear.addEventListener("click", () => {
    selected.clear();
    render(); // the rows untick themselves
    move.focus();
  });
  renderBar();
}

// ---- the dialog -------------------------------------------------------------------------------

/** @param {number[]} ids */
function whatText(ids) {
  const named = ids.slice(0, MAX_NAMED).map(conversationName).join(t("actions.listSep"));
  const more = ids.length - Math.min(ids.length, MAX_NAMED);
  return more > 0 ? t("move.whatMore", { names: named, more, n: ids.length }) : t("move.what", { names: named, n: ids.length });
}

function fillCounselors() {
  if (!m) return;
  const chosen = m.to.value;
  const blank = new Option(t("move.choose"), "");
  const options = counselors.map((c) => new Option(counselorOption(c), String(c.id)));
  m.to.replaceChildren(blank, ...options);
  m.to.value = options.some((o) => o.value === chosen) ? chosen : "";
}

/**
 * Open the move dialog for `ids`, with a counselor chosen already (a drop on her card) or not.
 * @param {number[]} ids
 * @param {number | null} to
 * @param {HTMLElement | null} from what focus goes back to
 */
export async function openMove(ids, to, from) {
  if (!m || !ids.length) return;
  const dlg = m;
  opener = from;
  dlg.dialog.dataset.ids = ids.join(",");
  dlg.what.textContent = whatText(ids);
  dlg.note.value = "";
  showError(dlg.error, null);
  dlg.failures.hidden = true;
  dlg.failures.replaceChildren();
  dlg.confirm.disabled = false;
  try {
    counselors = await loadCounselors();
  } catch (err) {
    if (signedOut(err)) return;
    showError(dlg.error, err);
  }
  fillCounselors();
  dlg.to.value = to === null ? "" : String(to);
  if (!dlg.dialog.open) dlg.dialog.showModal();
  (to === null ? dlg.to : dlg.note).focus();
}

/** @param {string} code */
function failureText(code) {
  return code === "not_found" ? t("error.code.not_found") : t("move.failedConflict");
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!m) return;
  const dlg = m;
  const ids = (dlg.dialog.dataset.ids || "").split(",").filter(Boolean).map(Number);
  const to = Number(dlg.to.value);
  if (!dlg.to.value || !Number.isFinite(to)) {
    showError(dlg.error, t("move.needCounselor"));
    dlg.to.focus();
    return;
  }
  const note = dlg.note.value.trim();
  dlg.confirm.disabled = true;
  /** @type {number[]} */
  const moved = [];
  /** @type {any[]} */
  const failed = [];
  // in batches the server takes (MOVE_BATCH); a batch that fails stops the rest, which stay selected
  for (let start = 0; start < ids.length; start += MOVE_BATCH) {
    const batch = ids.slice(start, start + MOVE_BATCH);
    let data;
    try {
      data = await api("POST", "/api/conversations/move", {
        conversation_ids: batch,
        to_user_id: to,
        note: note || null,
      });
    } catch (err) {
      dlg.confirm.disabled = false;
      if (signedOut(err)) return;
      if (!moved.length) {
        showError(dlg.error, err instanceof ApiError && err.field === "to_user_id" ? t("move.needCounselor") : err);
        return;
      }
      // what moved did; the rest of the selection is listed as not moved
      for (const id of ids.slice(start)) failed.push({ id, error: "conflict" });
      break;
    }
    if (Array.isArray(data && data.moved)) moved.push(...data.moved.map(Number));
    if (Array.isArray(data && data.failed)) failed.push(...data.failed);
  }
  dlg.confirm.disabled = false;
  for (const id of moved) selected.delete(id);
  render();
  refresh().catch(() => {}); // the socket brings it too; this is sooner
  const name = counselorName(to, counselors);
  const said = failed.length
    ? t("move.partly", { n: moved.length, name, failed: failed.length })
    : t("move.done", { n: moved.length, name });
  announce(said);
  if (!failed.length) {
    dlg.dialog.close();
    return;
  }
  // what could not move stays in the dialog, each with why; the rest moved
  dlg.dialog.dataset.ids = failed.map((/** @type {any} */ f) => String(f.id)).join(",");
  dlg.what.textContent = whatText(failed.map((/** @type {any} */ f) => Number(f.id)));
  dlg.failures.replaceChildren(
    ...failed.map((/** @type {any} */ f) => {
      const item = el("li", "", t("move.failedOne", { name: conversationName(Number(f.id)), why: failureText(String(f.error)) }));
      item.dataset.conversationId = String(f.id);
      return item;
    }),
  );
  dlg.failures.hidden = false;
  showError(dlg.error, said);
}

function onClose() {
  const back = opener;
  opener = null;
  if (focusBack(back)) return;
  if (bar) (bar.move.disabled ? bar.count : bar.move).focus();
}

// ---- dragging ---------------------------------------------------------------------------------

/** @param {Element | null} node @returns {HTMLElement | null} */
function cardOf(node) {
  const card = node instanceof Element ? node.closest("li.board-counselor[data-counselor-id]") : null;
  return card instanceof HTMLElement ? card : null;
}

function clearDropMarks() {
  for (const card of document.querySelectorAll("li.board-counselor.is-drop-target")) card.classList.remove("is-drop-target");
}

/** @param {DragEvent} e */
function onDragStart(e) {
  const row = rowOf(/** @type {Element | null} */ (e.target));
  if (!row || !e.dataTransfer) return;
  dragging = idsFor(row);
  if (!release) release = holdRenders();
  e.dataTransfer.effectAllowed = "move";
  e.dataTransfer.setData(DRAG_TYPE, dragging.join(","));
  e.dataTransfer.setData("text/plain", dragging.map(conversationName).join(", "));
}

/** @param {DragEvent} e */
function onDragOver(e) {
  const card = cardOf(/** @type {Element | null} */ (e.target));
  if (!card || !dragging.length) return;
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
  if (!card.classList.contains("is-drop-target")) {
    clearDropMarks();
    card.classList.add("is-drop-target");
  }
}

/** @param {DragEvent} e */
function onDragLeave(e) {
  const card = cardOf(/** @type {Element | null} */ (e.target));
  const into = cardOf(/** @type {Element | null} */ (e.relatedTarget));
  if (card && card !== into) card.classList.remove("is-drop-target");
}

function endDrag() {
  dragging = [];
  clearDropMarks();
  if (release) release();
  release = null;
}

/** @param {DragEvent} e */
function onDrop(e) {
  const card = cardOf(/** @type {Element | null} */ (e.target));
  const ids = dragging;
  endDrag();
  if (!card || !ids.length) return;
  e.preventDefault();
  openMove(ids, Number(card.dataset.counselorId), card);
}

// ---- wiring -----------------------------------------------------------------------------------

/** @param {KeyboardEvent} e */
function onKey(e) {
  if (e.key !== "m" && e.key !== "M") return;
  if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const target = /** @type {Element | null} */ (e.target);
  if (target instanceof HTMLTextAreaElement || (target instanceof HTMLInputElement && target.type !== "checkbox")) return;
  const row = rowOf(target);
  if (!row || !(target instanceof HTMLElement)) return;
  e.preventDefault();
  openMove(idsFor(row), null, target);
}

export function renderMove() {
  renderBar();
  if (!m) return;
  if (m.dialog.open) {
    fillCounselors();
    m.what.textContent = whatText((m.dialog.dataset.ids || "").split(",").filter(Boolean).map(Number));
  }
}

/** The conversations selected now (for tests and other actions). */
export function selectedIds() {
  return [...selected];
}

export function bindMove() {
  m = moveEls();
  const dlg = m;
  buildBar();
  dlg.board.addEventListener("keydown", onKey);
  dlg.board.addEventListener("dragstart", onDragStart);
  dlg.board.addEventListener("dragend", endDrag);
  dlg.cards.addEventListener("dragover", onDragOver);
  dlg.cards.addEventListener("dragleave", onDragLeave);
  dlg.cards.addEventListener("drop", onDrop);
  dlg.form.addEventListener("submit", onSubmit);
  dlg.cancel.addEventListener("click", () => dlg.dialog.close());
  dlg.dialog.addEventListener("close", onClose);
  dlg.to.addEventListener("change", () => {
    if (dlg.to.value) showError(dlg.error, null);
  });
  // Enter on the list chooses (a select does not submit its form by itself)
  dlg.to.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      dlg.form.requestSubmit();
    }
  });
  syncSelection();
}
