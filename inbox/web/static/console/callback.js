// @ts-check
// Asking the phone desk to call her back (POST /api/conversations/{id}/callback), from a
// conversation on any channel but the phone itself: her number, when she said she can safely
// talk (days and time ranges, routing.callbacks.parse_call_window's table; or null: any time
// within the desk's hours), and a short note for phone staff. The server decides who may ask
// (her counselor, supervisors); the button is offered to them only.
//
// Her number is typed here and sent once: it is never logged, never kept in a variable beyond
// the request, and the field is emptied when the dialog closes (sent or not).

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el, query } from "../lib/dom.js";
import { clearFormError, showFieldError, showFormError } from "../lib/forms.js";
import { state, isMine } from "./state.js";
import { showToast } from "./header.js";
import { endSession } from "./session.js";

const STEP_MIN = 30; // the picker's steps
const DAY_MIN = 24 * 60;
const DEFAULT_RANGE = { start: 12 * 60, end: 13 * 60 }; // lunch time: the most asked for
const MAX_RANGES = 4;

function callbackEls() {
  return {
    button: byId("callback-button", HTMLButtonElement),
    dialog: byId("callback-dialog", HTMLDialogElement),
    form: byId("callback-form", HTMLFormElement),
    number: byId("callback-number", HTMLInputElement),
    window: byId("callback-window", HTMLElement),
    days: byId("callback-days", HTMLFieldSetElement),
    times: byId("callback-times", HTMLFieldSetElement),
    ranges: byId("callback-ranges", HTMLOListElement),
    addRange: byId("callback-add-range", HTMLButtonElement),
    note: byId("callback-note", HTMLTextAreaElement),
    error: byId("callback-error", HTMLElement),
    cancel: byId("callback-cancel", HTMLButtonElement),
    confirm: byId("callback-confirm", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof callbackEls> | null} */
let c = null;

/** "HH:MM" of minutes since midnight (24:00 for the day's end). @param {number} min */
function hhmm(min) {
  return `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
}

/** A select of the times from `first` to `last` in 30-minute steps. @param {number} first @param {number} last @param {number} chosen */
function timeSelect(first, last, chosen) {
  const select = el("select", "callback-time");
  for (let m = first; m <= last; m += STEP_MIN) select.append(new Option(hhmm(m), String(m)));
  select.value = String(chosen);
  return select;
}

/** One time range's row: start, end, and a remove button. */
function addRange(range = DEFAULT_RANGE) {
  if (!c) return;
  const start = timeSelect(0, DAY_MIN - STEP_MIN, range.start);
  start.dataset.testid = "callback-start";
  start.classList.add("callback-start");
  const end = timeSelect(STEP_MIN, DAY_MIN, range.end);
  end.dataset.testid = "callback-end";
  end.classList.add("callback-end");
  const remove = el("button", "btn btn-small btn-quiet callback-remove");
  remove.type = "button";
  remove.dataset.testid = "callback-remove";
  const row = el("li", "callback-range");
  row.dataset.testid = "callback-range";
  const dash = el("span", "callback-dash", "–");
  dash.setAttribute("aria-hidden", "true");
  row.append(start, dash, end, remove);
  remove.addEventListener("click", () => {
    row.remove();
    renderRanges();
    c?.addRange.focus();
  });
  c.ranges.append(row);
  renderRanges();
}

/** The ranges' labels (they name the row: "start of range 2") and which buttons apply. */
function renderRanges() {
  if (!c) return;
  const rows = [...c.ranges.querySelectorAll(".callback-range")];
  rows.forEach((row, i) => {
    const n = i + 1;
    query(row, ".callback-start", HTMLSelectElement).setAttribute("aria-label", t("callback.rangeStart", { n }));
    query(row, ".callback-end", HTMLSelectElement).setAttribute("aria-label", t("callback.rangeEnd", { n }));
    const remove = query(row, ".callback-remove", HTMLButtonElement);
    remove.textContent = t("callback.removeRange");
    remove.setAttribute("aria-label", t("callback.removeRangeAria", { n }));
    remove.hidden = rows.length === 1;
  });
  c.addRange.hidden = rows.length >= MAX_RANGES;
}

/** @param {string} name @returns {string} the checked radio's value in the form */
function chosen(name) {
  if (!c) return "";
  const picked = c.form.querySelector(`input[name="${name}"]:checked`);
  return picked instanceof HTMLInputElement ? picked.value : "";
}

/** Show the days and times only when she gave a window; the weekdays only for "some days". */
function renderChoices() {
  if (!c) return;
  c.window.hidden = chosen("callback-when") === "any";
  const some = chosen("callback-days") === "some";
  for (const box of c.days.querySelectorAll('input[name="callback-day"]')) {
    if (box instanceof HTMLInputElement) box.disabled = !some;
  }
}

/**
 * Her window as the API takes it, null for any time, or undefined after saying what is wrong.
 * @returns {Record<string, string[]> | null | undefined}
 */
function readWindow() {
  if (!c) return undefined;
  if (chosen("callback-when") === "any") return null;
  /** @type {{start: number, end: number}[]} */
  const ranges = [];
  for (const row of c.ranges.querySelectorAll(".callback-range")) {
    const start = Number(query(row, ".callback-start", HTMLSelectElement).value);
    const end = query(row, ".callback-end", HTMLSelectElement);
    if (Number(end.value) <= start) return fieldError(c.times, "callback.badRange", end);
    ranges.push({ start, end: Number(end.value) });
  }
  ranges.sort((a, b) => a.start - b.start);
  if (ranges.some((r, i) => i > 0 && r.start < ranges[i - 1].end)) {
    return fieldError(c.times, "callback.overlap");
  }
  const texts = ranges.map((r) => `${hhmm(r.start)}-${hhmm(r.end)}`);
  const days = chosen("callback-days");
  if (days !== "some") return { [days]: texts };
  const picked = [...c.days.querySelectorAll('input[name="callback-day"]:checked')].map((b) =>
    b instanceof HTMLInputElement ? b.value : "",
  );
  if (!picked.length) return fieldError(c.days, "callback.needDay");
  return Object.fromEntries(picked.map((d) => [d, texts]));
}

/**
 * Say `key` next to `block`, and focus `focus` (a fieldset cannot take it); undefined.
 * @param {HTMLElement} block @param {string} key @param {HTMLElement | null} [focus]
 * @returns {undefined}
 */
function fieldError(block, key, focus = null) {
  if (!c) return undefined;
  showFieldError(c.error, t(key), block);
  (focus ?? block.querySelector("input:not(:disabled), select"))?.focus();
  return undefined;
}

/** The error line back above the buttons, for an error about no one field. @param {string} text */
function formError(text) {
  if (!c) return;
  const bar = c.form.querySelector(".action-bar");
  if (bar && bar.previousElementSibling !== c.error) bar.before(c.error);
  showFormError(c.error, text);
}

/** Back to a blank form: nothing of her (the number, the note) stays in the page. */
function clearForm() {
  if (!c) return;
  c.number.value = "";
  c.note.value = "";
  clearFormError(c.error, c.form);
  query(c.form, 'input[name="callback-when"][value="window"]', HTMLInputElement).checked = true;
  query(c.form, 'input[name="callback-days"][value="weekdays"]', HTMLInputElement).checked = true;
  for (const box of c.days.querySelectorAll('input[name="callback-day"]')) {
    if (box instanceof HTMLInputElement) box.checked = false;
  }
  c.ranges.replaceChildren();
  addRange();
  renderChoices();
  c.confirm.disabled = false;
}

/** Whether she may ask for a callback from the open conversation (the server checks again). */
function offered() {
  const conv = state.conv;
  if (!conv || conv.channel === "phone" || !state.me) return false;
  const roles = Array.isArray(state.me.roles) ? state.me.roles : [];
  return isMine(conv) || roles.includes("supervisor");
}

/** The button, as the open conversation is now; the ranges' words in the UI language. */
export function renderCallback() {
  if (!c) return;
  c.button.hidden = !offered();
  renderRanges();
  if (c.dialog.open && c.dialog.dataset.conversationId !== String(state.openId)) c.dialog.close();
}

/** The session ended: close the dialog and forget what was typed. */
export function resetCallback() {
  if (!c) return;
  if (c.dialog.open) c.dialog.close();
  clearForm();
  c.button.hidden = true;
}

function ask() {
  if (!c || !state.conv || !offered()) return;
  clearForm();
  c.dialog.dataset.conversationId = String(state.conv.id);
  c.dialog.showModal();
  c.number.focus();
}

/** The server's field, as the form shows it. @param {string | undefined} field */
function fieldOf(field) {
  if (!c) return null;
  if (field === "number") return c.number;
  if (field === "window") return c.times;
  if (field === "note") return c.note;
  return null;
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!c) return;
  const f = c;
  clearFormError(f.error, f.form);
  const id = Number(f.dialog.dataset.conversationId);
  if (!f.number.value.trim()) return void fieldError(f.number, "callback.needNumber", f.number);
  const allowed = readWindow();
  if (allowed === undefined) return;
  f.confirm.disabled = true;
  const body = { number: f.number.value.trim(), window: allowed, note: f.note.value.trim() };
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(id)}/callback`, body);
  } catch (err) {
    f.confirm.disabled = false;
    if (err instanceof ApiError && err.status === 401) {
      f.dialog.close();
      endSession("login.expired");
      return;
    }
    const field = err instanceof ApiError ? fieldOf(err.field) : null;
    // said in the dialog, next to what it is about: the toast would be under the dialog
    if (field && err instanceof ApiError) fieldError(field, `callback.bad.${err.field}`);
    else formError((err instanceof Error && err.message) || t("error.network"));
    return;
  }
  f.dialog.close(); // and the close handler empties the form
  showToast(t("callback.done"), { ok: true });
  f.button.focus();
}

export function bindCallback() {
  c = callbackEls();
  const f = c;
  f.note.maxLength = 2000; // inbox/core/phone.py MAX_CALL_NOTE_CHARS
  f.button.addEventListener("click", ask);
  f.form.addEventListener("submit", onSubmit);
  f.form.addEventListener("change", renderChoices);
  f.cancel.addEventListener("click", () => f.dialog.close());
  f.addRange.addEventListener("click", () => {
    addRange({ start: 18 * 60, end: 19 * 60 });
    const selects = f.ranges.querySelectorAll(".callback-start");
    const last = selects[selects.length - 1];
    if (last instanceof HTMLSelectElement) last.focus();
  });
  // sent, cancelled or Escape: her number leaves the page with the dialog
  f.dialog.addEventListener("close", clearForm);
  clearForm();
}
