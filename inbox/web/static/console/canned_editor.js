// @ts-check
// --- desk: the canned-reply editor, a screen of its own for supervisors and admins (the server
// refuses anyone else): list, add, edit, delete. Reached from the top bar; "back" returns to the
// conversations. Each bad field is named and focused.

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { el, errorMessage } from "../lib/dom.js";
import { state, els } from "./state.js";
import { call, endSession } from "./session.js";
import { showToast } from "./header.js";
import { cannedBody, cannedTitle } from "./canned.js";

/** @typedef {import("./canned.js").CannedReply} CannedReply */

const EDITORS = ["supervisor", "admin"];
const FIELDS = /** @type {const} */ (["title_ja", "title_en", "body_ja", "body_en", "position"]);

/** @type {{replies: CannedReply[], editing: number | null, open: boolean}} */
const editor = { replies: [], editing: null, open: false };

function field(/** @type {string} */ name, /** @type {"input" | "textarea"} */ kind) {
  const wrap = el("div", "field");
  const label = el("label");
  const input = kind === "input" ? el("input") : el("textarea");
  input.id = `canned-${name.replace("_", "-")}`;
  input.name = name;
  input.setAttribute("data-testid", `canned-${name}`);
  label.htmlFor = input.id;
  wrap.append(label, input);
  return { wrap, label, input };
}

const parts = {
  open: el("button", "btn btn-small btn-quiet canned-editor-open"),
  view: el("main", "canned-editor"),
  heading: el("h2", "canned-editor-heading"),
  back: el("button", "btn btn-small btn-quiet"),
  add: el("button", "btn btn-primary btn-small"),
  form: el("form", "card canned-form"),
  formHeading: el("h3"),
  fields: {
    title_ja: field("title_ja", "input"),
    title_en: field("title_en", "input"),
    body_ja: field("body_ja", "textarea"),
    body_en: field("body_en", "textarea"),
    position: field("position", "input"),
  },
  error: el("p", "form-error"),
  save: el("button", "btn btn-primary"),
  cancel: el("button", "btn btn-quiet"),
  listHeading: el("h3", "visually-hidden"),
  list: el("ul", "canned-rows"),
  said: el("p", "visually-hidden"),
};

function build() {
  const p = parts;
  p.open.type = "button";
  p.open.setAttribute("data-testid", "canned-editor-open");
  p.open.hidden = true;
  els.userBox.insertBefore(p.open, els.signout);

  p.view.id = "canned-editor";
  p.view.hidden = true;
  p.view.setAttribute("data-testid", "canned-editor");
  p.heading.id = "canned-editor-heading";
  p.heading.tabIndex = -1;
  p.view.setAttribute("aria-labelledby", p.heading.id);
  p.back.type = "button";
  p.back.setAttribute("data-testid", "canned-editor-back");
  p.add.type = "button";
  p.add.setAttribute("data-testid", "canned-add");
  const head = el("div", "pane-head canned-editor-head");
  head.append(p.heading, p.back, p.add);

  p.form.noValidate = true;
  p.form.hidden = true;
  p.form.setAttribute("data-testid", "canned-form");
  p.formHeading.id = "canned-form-heading";
  p.formHeading.tabIndex = -1;
  p.form.setAttribute("aria-labelledby", p.formHeading.id);
  const position = /** @type {HTMLInputElement} */ (p.fields.position.input);
  position.type = "number";
  position.step = "1";
  for (const name of ["title_ja", "title_en"]) {
    /** @type {HTMLInputElement} */ (p.fields[/** @type {"title_ja"} */ (name)].input).maxLength = 100;
  }
  for (const name of ["body_ja", "body_en"]) {
    const area = /** @type {HTMLTextAreaElement} */ (p.fields[/** @type {"body_ja"} */ (name)].input);
    area.rows = 4;
    area.maxLength = 4000;
  }
  p.error.id = "canned-form-error";
  p.error.setAttribute("role", "alert");
  p.error.setAttribute("data-testid", "canned-form-error");
  p.error.hidden = true;
  p.save.type = "submit";
  p.save.setAttribute("data-testid", "canned-save");
  p.cancel.type = "button";
  const bar = el("div", "canned-form-bar");
  bar.append(p.save, p.cancel);
  p.form.append(p.formHeading, ...FIELDS.map((n) => p.fields[n].wrap), p.error, bar);

  p.listHeading.id = "canned-rows-heading";
  p.list.setAttribute("aria-labelledby", p.listHeading.id);
  p.list.setAttribute("data-testid", "canned-rows");
  p.said.setAttribute("role", "status");
  p.view.append(head, p.form, p.listHeading, p.list, p.said);
  els.appView.after(p.view);

  p.open.addEventListener("click", openEditor);
  p.back.addEventListener("click", closeEditor);
  p.add.addEventListener("click", () => startEdit(null));
  p.cancel.addEventListener("click", stopEdit);
  p.form.addEventListener("submit", onSave);
  p.list.addEventListener("click", onRowClick);
}

/** Whether the signed-in person may edit canned replies. */
function mayEdit() {
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  return roles.some((r) => EDITORS.includes(r));
}

export function renderEditor() {
  const p = parts;
  p.open.hidden = !mayEdit();
  p.open.textContent = t("canned.editorOpen");
  p.heading.textContent = t("canned.editor");
  p.back.textContent = t("canned.back");
  p.add.textContent = t("canned.add");
  p.formHeading.textContent = editor.editing === null ? t("canned.add") : t("canned.edit");
  p.fields.title_ja.label.textContent = t("canned.titleJa");
  p.fields.title_en.label.textContent = t("canned.titleEn");
  p.fields.body_ja.label.textContent = t("canned.bodyJa");
  p.fields.body_en.label.textContent = t("canned.bodyEn");
  p.fields.position.label.textContent = t("canned.position");
  p.save.textContent = t("canned.save");
  p.cancel.textContent = t("canned.cancel");
  p.listHeading.textContent = t("canned.listLabel");
  p.list.replaceChildren(...editor.replies.map(row));
}

/** @param {CannedReply} r */
function row(r) {
  const li = el("li", "card canned-row");
  li.setAttribute("data-testid", "canned-row");
  li.dataset.cannedId = String(r.id);
  const title = cannedTitle(r);
  li.append(el("h4", "canned-row-title", title), el("p", "canned-row-body", cannedBody(r)));
  const who = r.updated_by === null ? t("canned.seeded") : t("canned.updatedBy", { name: r.updated_by_name || "" });
  li.append(el("p", "canned-row-meta", who));
  const bar = el("div", "canned-row-bar");
  for (const [action, key] of /** @type {const} */ ([["edit", "canned.edit"], ["delete", "canned.delete"]])) {
    const b = el("button", `btn btn-small ${action === "delete" ? "btn-quiet" : ""}`);
    b.type = "button";
    b.dataset.action = action;
    b.setAttribute("data-testid", `canned-${action}`);
    b.append(t(key), el("span", "visually-hidden", `: ${title}`));
    bar.append(b);
  }
  li.append(bar);
  return li;
}

async function loadReplies() {
  const data = await call("GET", "/api/canned-replies");
  if (!data) return;
  editor.replies = Array.isArray(data.canned_replies) ? data.canned_replies : [];
  renderEditor();
}

export async function openEditor() {
  if (!mayEdit()) return;
  editor.open = true;
  els.appView.hidden = true;
  parts.view.hidden = false;
  renderEditor();
  parts.heading.focus();
  await loadReplies();
}

export function closeEditor() {
  if (!editor.open) return;
  editor.open = false;
  stopEdit();
  parts.view.hidden = true;
  els.appView.hidden = false;
  parts.open.focus();
}

/** @param {CannedReply | null} r the one to edit, or null for a new one */
function startEdit(r) {
  editor.editing = r ? r.id : null;
  for (const name of FIELDS) {
    const value = r ? r[name] : "";
    parts.fields[name].input.value = value === null || value === undefined ? "" : String(value);
    parts.fields[name].input.removeAttribute("aria-invalid");
  }
  parts.error.hidden = true;
  parts.form.hidden = false;
  renderEditor();
  parts.fields.title_ja.input.focus();
}

function stopEdit() {
  editor.editing = null;
  parts.form.hidden = true;
  parts.error.hidden = true;
}

/** @param {Event} e */
async function onSave(e) {
  e.preventDefault();
  /** @type {Record<string, string | number | null>} */
  const body = {};
  for (const name of FIELDS) {
    const raw = parts.fields[name].input.value;
    body[name] = name === "position" ? (raw.trim() === "" ? null : Number(raw)) : raw;
  }
  const editing = editor.editing;
  const path = editing === null ? "/api/canned-replies" : `/api/canned-replies/${editing}`;
  parts.save.disabled = true;
  try {
    await api(editing === null ? "POST" : "PATCH", path, body);
  } catch (err) {
    parts.save.disabled = false;
    showFormError(err);
    return;
  }
  parts.save.disabled = false;
  stopEdit();
  parts.said.textContent = t("canned.saved");
  await loadReplies();
  parts.add.focus();
}

/** @param {unknown} err */
function showFormError(err) {
  if (err instanceof ApiError && err.status === 401) {
    endSession("login.expired");
    return;
  }
  parts.error.textContent = errorMessage(err) || t("error.network");
  parts.error.hidden = false;
  const name = err instanceof ApiError ? err.field : undefined;
  const bad = name && name in parts.fields ? parts.fields[/** @type {"title_ja"} */ (name)].input : null;
  if (bad) {
    bad.setAttribute("aria-invalid", "true");
    bad.setAttribute("aria-describedby", parts.error.id);
    bad.focus();
  }
}

/** @param {MouseEvent} e */
async function onRowClick(e) {
  const btn = e.target instanceof Element ? e.target.closest("button[data-action]") : null;
  const li = btn ? btn.closest("[data-canned-id]") : null;
  if (!(btn instanceof HTMLElement) || !(li instanceof HTMLElement)) return;
  const r = editor.replies.find((x) => String(x.id) === li.dataset.cannedId);
  if (!r) return;
  if (btn.dataset.action === "edit") {
    startEdit(r);
    return;
  }
  if (!window.confirm(t("canned.confirmDelete", { title: cannedTitle(r) }))) return;
  try {
    await api("DELETE", `/api/canned-replies/${r.id}`); // 204: null
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) endSession("login.expired");
    else showToast(errorMessage(err));
    return;
  }
  parts.said.textContent = t("canned.deleted");
  if (editor.editing === r.id) stopEdit();
  await loadReplies();
  parts.add.focus();
}

/** A live event told of a change: reload if the editor is open. */
export function cannedChanged() {
  if (editor.open) loadReplies();
}

/** Leave the editor and forget its list (the session ended). */
export function resetEditor() {
  editor.open = false;
  editor.replies = [];
  stopEdit();
  parts.view.hidden = true;
  renderEditor();
}

export function bindEditor() {
  build();
  renderEditor();
}
