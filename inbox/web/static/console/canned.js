// @ts-check
// --- desk: the canned-reply picker. Opened from the reply box by its button, by Ctrl+/ (⌘/), or
// by typing "/" into an empty box; typing filters, ↑↓ choose, Enter inserts the text at the cursor
// (in the UI's language, else the other), Esc closes. The list is fetched at each opening, so a
// supervisor's edit shows at once.

import { t, getLang } from "../i18n.js";
import { el } from "../lib/dom.js";
import { els } from "./state.js";
import { call } from "./session.js";

/**
 * @typedef {object} CannedReply
 * @property {number} id
 * @property {string} title_ja
 * @property {string} title_en
 * @property {string} body_ja
 * @property {string} body_en
 * @property {number} position
 * @property {number | null} updated_by
 * @property {string | null} [updated_by_name]
 */

/** @param {string} ja @param {string} en @returns {string} the UI language's, else the other */
export function inLang(ja, en) {
  return getLang() === "en" ? en || ja : ja || en;
}

/** @param {CannedReply} r */
export function cannedTitle(r) {
  return inLang(r.title_ja, r.title_en) || t("canned.noTitle");
}

/** @param {CannedReply} r */
export function cannedBody(r) {
  return inLang(r.body_ja, r.body_en);
}

const picker = {
  /** @type {CannedReply[]} */
  all: [],
  /** @type {CannedReply[]} */
  shown: [],
  active: 0,
  selStart: 0,
  selEnd: 0,
};

const parts = {
  button: el("button", "btn btn-small btn-quiet canned-open"),
  dialog: el("dialog", "canned-dialog"),
  heading: el("h2", "canned-heading"),
  filterLabel: el("label", "canned-filter-label"),
  filter: el("input", "canned-filter"),
  list: el("ul", "canned-list"),
  empty: el("p", "canned-empty"),
  help: el("p", "canned-help"),
  close: el("button", "btn btn-small btn-quiet canned-close"),
};

function build() {
  const { button, dialog, heading, filterLabel, filter, list, empty, help, close } = parts;
  button.type = "button";
  button.setAttribute("data-testid", "canned-open");
  button.setAttribute("aria-keyshortcuts", "Control+/");
  button.setAttribute("aria-haspopup", "dialog");
  const bar = els.replyForm.querySelector(".reply-bar");
  (bar || els.replyForm).prepend(button);

  dialog.setAttribute("data-testid", "canned-dialog");
  heading.id = "canned-heading";
  dialog.setAttribute("aria-labelledby", heading.id);
  filter.id = "canned-filter";
  filter.type = "text";
  filter.autocomplete = "off";
  filter.setAttribute("data-testid", "canned-filter");
  filter.setAttribute("role", "combobox");
  filter.setAttribute("aria-expanded", "true");
  filter.setAttribute("aria-autocomplete", "list");
  filterLabel.htmlFor = filter.id;
  list.id = "canned-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("data-testid", "canned-list");
  filter.setAttribute("aria-controls", list.id);
  help.id = "canned-help";
  filter.setAttribute("aria-describedby", help.id);
  empty.hidden = true;
  close.type = "button";
  dialog.append(heading, filterLabel, filter, help, list, empty, close);
  document.body.append(dialog);

  button.addEventListener("click", openPicker);
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => els.replyInput.focus());
  filter.addEventListener("input", () => {
    picker.active = 0;
    renderList();
  });
  filter.addEventListener("keydown", onFilterKey);
  list.addEventListener("click", (e) => {
    const item = e.target instanceof Element ? e.target.closest("[data-canned-index]") : null;
    if (item instanceof HTMLElement) insert(Number(item.dataset.cannedIndex));
  });
  els.replyInput.addEventListener("keydown", onReplyKey);
}

/** Words of the picker, in the UI's language. */
export function renderPicker() {
  const { button, heading, filterLabel, filter, empty, help, close } = parts;
  button.textContent = t("canned.open");
  button.title = t("canned.openHint");
  heading.textContent = t("canned.dialog");
  filterLabel.textContent = t("canned.filter");
  filter.placeholder = t("canned.filterPlaceholder");
  empty.textContent = t("canned.empty");
  help.textContent = t("canned.help");
  close.textContent = t("canned.close");
  if (parts.dialog.open) renderList();
}

function renderList() {
  const needle = parts.filter.value.trim().toLowerCase();
  picker.shown = picker.all.filter((r) =>
    !needle ||
    [r.title_ja, r.title_en, r.body_ja, r.body_en].some((s) => (s || "").toLowerCase().includes(needle)),
  );
  picker.active = Math.max(0, Math.min(picker.active, picker.shown.length - 1));
  const items = picker.shown.map((r, i) => {
    const li = el("li", "canned-item");
    li.id = `canned-option-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("data-testid", "canned-option");
    li.dataset.cannedIndex = String(i);
    li.setAttribute("aria-selected", String(i === picker.active));
    li.append(el("span", "canned-item-title", cannedTitle(r)), el("span", "canned-item-body", cannedBody(r)));
    return li;
  });
  parts.list.replaceChildren(...items);
  parts.empty.hidden = items.length > 0;
  parts.list.hidden = items.length === 0;
  if (items.length) {
    parts.filter.setAttribute("aria-activedescendant", items[picker.active].id);
    items[picker.active].scrollIntoView({ block: "nearest" });
  } else {
    parts.filter.removeAttribute("aria-activedescendant");
  }
}

/** Open the picker over the reply box, remembering where its cursor was. */
export async function openPicker() {
  if (parts.dialog.open || els.replyInput.disabled) return;
  picker.selStart = els.replyInput.selectionStart ?? els.replyInput.value.length;
  picker.selEnd = els.replyInput.selectionEnd ?? picker.selStart;
  parts.filter.value = "";
  picker.active = 0;
  // The list she saw last is offered at once (a quick "/", word, Enter must not find it empty)
  // and replaced by the server's when it comes; the session's end forgets it (resetPicker).
  renderList();
  parts.dialog.showModal();
  parts.filter.focus();
  const data = await call("GET", "/api/canned-replies");
  if (!data || !parts.dialog.open) return;
  picker.all = Array.isArray(data.canned_replies) ? data.canned_replies : [];
  renderList();
}

/** Put the chosen reply's text into the box at the remembered cursor. @param {number} index */
function insert(index) {
  const r = picker.shown[index];
  if (!r) return;
  const box = els.replyInput;
  const text = cannedBody(r);
  parts.dialog.close();
  box.focus();
  box.setRangeText(text, picker.selStart, picker.selEnd, "end");
  box.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
}

/** @param {KeyboardEvent} e */
function onFilterKey(e) {
  if (e.isComposing) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const step = e.key === "ArrowDown" ? 1 : -1;
    picker.active = Math.max(0, Math.min(picker.shown.length - 1, picker.active + step));
    renderList();
  } else if (e.key === "Enter") {
    e.preventDefault();
    insert(picker.active);
  }
}

/** Ctrl+/ (⌘/) anywhere in the box, or "/" typed into an empty box, opens the picker. @param {KeyboardEvent} e */
function onReplyKey(e) {
  if (e.isComposing || e.key !== "/") return;
  const box = els.replyInput;
  const shortcut = e.ctrlKey || e.metaKey;
  const atStart = !e.altKey && box.value.trim() === "" && (box.selectionStart ?? 0) === 0;
  if (shortcut || atStart) {
    e.preventDefault();
    openPicker();
  }
}

/** Close the picker and forget its list (the session ended). */
export function resetPicker() {
  if (parts.dialog.open) parts.dialog.close();
  picker.all = [];
  picker.shown = [];
}

export function bindPicker() {
  build();
  renderPicker();
}
