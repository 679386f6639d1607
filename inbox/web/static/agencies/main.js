// @ts-check
// Tsunagu Inbox — the directory of partner agencies (supervisors, admins): the list filtered by
// kind and area, add and edit an agency, archive and restore one (never deleted: referrals to it
// stay counted), and a CSV from Excel previewed, then imported in one go. The frame (sign-in,
// nav, language) is lib/staff_page.js; the server decides every permission.

import { t, getLang } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el, errorMessage, morphChildren } from "../lib/dom.js";
import { clearFormError, showFieldError, showFormError } from "../lib/forms.js";
import { startStaffPage, showToast, toSignIn } from "../lib/staff_page.js";
import { bindImport, clearImportError, renderImport } from "./import.js";

/**
 * @typedef {object} Agency
 * @property {number} id
 * @property {string} name
 * @property {string} kind
 * @property {string} area
 * @property {string} contact
 * @property {string} note
 * @property {boolean} archived
 */
/** @typedef {{id: string, ja: string, en: string}} Word */

const page = {
  /** @type {Word[]} */ kinds: [],
  /** @type {Agency[]} */ agencies: [],
  /** @type {Agency | null} */ editing: null,
  /** @type {(() => string) | null} */ notice: null, // in the page's language at each redraw
};

const FIELDS = ["name", "kind", "area", "contact", "note"];

function els() {
  return {
    notice: byId("agencies-notice", HTMLElement),
    form: byId("agency-form", HTMLFormElement),
    heading: byId("agency-form-heading", HTMLElement),
    name: byId("agency-name", HTMLInputElement),
    kind: byId("agency-kind", HTMLSelectElement),
    area: byId("agency-area", HTMLInputElement),
    contact: byId("agency-contact", HTMLTextAreaElement),
    note: byId("agency-note", HTMLTextAreaElement),
    error: byId("agency-error", HTMLElement),
    save: byId("agency-save", HTMLButtonElement),
    cancel: byId("agency-cancel", HTMLButtonElement),
    filterKind: byId("filter-kind", HTMLSelectElement),
    filterArea: byId("filter-area", HTMLInputElement),
    filterArchived: byId("filter-archived", HTMLInputElement),
    rows: byId("agencies-rows", HTMLElement),
    empty: byId("agencies-empty", HTMLElement),
  };
}
/** @type {ReturnType<typeof els>} */
let e;

/** An agency kind's word in the page's language. @param {string} id */
export function kindWord(id) {
  const found = page.kinds.find((k) => k.id === id);
  return found ? (getLang() === "en" ? found.en : found.ja) : id;
}

/** Say what was done in the notice line (`text` gives it in the page's language). @param {(() => string) | null} text */
export function setNotice(text) {
  page.notice = text;
  renderNotice();
}

function renderNotice() {
  e.notice.textContent = page.notice ? page.notice() : "";
}

/** A new action starts: what the last one said (its notice, the forms' errors) is gone. */
export function startAction() {
  setNotice(null);
  clearFormError(e.error, e.form);
  clearImportError();
}

export async function load() {
  const query = new URLSearchParams();
  query.set("archived", e.filterArchived.checked ? "all" : "0");
  if (e.filterKind.value) query.set("kind", e.filterKind.value);
  const area = e.filterArea.value.trim();
  if (area) query.set("area", area);
  try {
    const data = await api("GET", `/api/agencies?${query}`);
    page.kinds = data.kinds;
    page.agencies = data.agencies;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return toSignIn();
    showToast(errorMessage(err) || t("error.network"));
  }
  renderKinds();
  renderRows();
}

/** Fill a select with the kinds, after its first option (keeping what was chosen). @param {HTMLSelectElement} select @param {string} first */
function fillKinds(select, first) {
  const chosen = select.value;
  select.replaceChildren(new Option(t(first), ""), ...page.kinds.map((k) => new Option(kindWord(k.id), k.id)));
  select.value = chosen;
}

function renderKinds() {
  fillKinds(e.kind, "agencies.chooseKind");
  fillKinds(e.filterKind, "agencies.anyKind");
}

/**
 * A row's button; its name says which agency it acts on.
 * @param {string} key @param {string} testid @param {Agency} a @param {() => void} run
 */
function action(key, testid, a, run) {
  const button = el("button", "btn btn-small", t(key));
  button.type = "button";
  button.dataset.testid = testid;
  button.setAttribute("aria-label", t("agencies.actionOn", { action: t(key), name: a.name }));
  button.addEventListener("click", run);
  return button;
}

/** @param {Agency} a */
function renderRow(a) {
  const row = el("tr");
  row.dataset.testid = "agency-row";
  row.dataset.key = `agency-${a.id}`;
  const name = el("th", "", a.name);
  name.scope = "row";
  const state = el("td");
  state.append(
    el(
      "span",
      a.archived ? "state-badge state-disabled" : "state-badge state-enabled",
      t(a.archived ? "agencies.archived" : "agencies.active"),
    ),
  );
  const actions = el("td");
  const group = el("div", "account-actions");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", t("agencies.actionsFor", { name: a.name }));
  group.append(
    action("agencies.edit", "agency-edit", a, () => startEdit(a)),
    a.archived
      ? action("agencies.restore", "agency-restore", a, () => setArchived(a, false))
      : action("agencies.archive", "agency-archive", a, () => setArchived(a, true)),
  );
  actions.append(group);
  row.append(name, el("td", "", kindWord(a.kind)), el("td", "", a.area), el("td", "agency-contact", a.contact), state, actions);
  return row;
}

function renderRows() {
  morphChildren(e.rows, page.agencies.map(renderRow));
  e.empty.hidden = page.agencies.length > 0;
}

function renderForm() {
  const editing = page.editing;
  e.heading.textContent = editing ? t("agencies.editHeading", { name: editing.name }) : t("agencies.addHeading");
  e.save.textContent = t(editing ? "agencies.save" : "agencies.add");
  e.cancel.hidden = !editing;
}

/** @param {Agency} a */
function startEdit(a) {
  page.editing = a;
  e.name.value = a.name;
  e.kind.value = a.kind;
  e.area.value = a.area;
  e.contact.value = a.contact;
  e.note.value = a.note;
  clearFormError(e.error, e.form);
  renderForm();
  e.name.focus();
}

function endEdit() {
  page.editing = null;
  e.form.reset();
  clearFormError(e.error, e.form);
  renderForm();
}

/** @param {Agency} a @param {boolean} archived */
async function setArchived(a, archived) {
  if (archived && !window.confirm(t("agencies.confirmArchive", { name: a.name }))) return;
  startAction();
  try {
    await api("PATCH", `/api/agencies/${a.id}`, { archived });
    setNotice(() => t(archived ? "agencies.archivedDone" : "agencies.restoredDone", { name: a.name }));
  } catch (err) {
    showToast(errorMessage(err) || t("error.network"));
  }
  await load();
}

async function save() {
  startAction();
  /** @type {Record<string, string>} */
  const body = {
    name: e.name.value.trim(),
    kind: e.kind.value,
    area: e.area.value.trim(),
    contact: e.contact.value.trim(),
    note: e.note.value.trim(),
  };
  if (!body.name) return showFieldError(e.error, t("agencies.needName"), e.name);
  if (!body.kind) return showFieldError(e.error, t("agencies.needKind"), e.kind);
  const editing = page.editing;
  e.save.disabled = true;
  try {
    const data = editing
      ? await api("PATCH", `/api/agencies/${editing.id}`, body)
      : await api("POST", "/api/agencies", body);
    const name = data.agency.name;
    setNotice(() => t(editing ? "agencies.savedDone" : "agencies.addedDone", { name }));
    endEdit();
    await load();
  } catch (err) {
    const field = err instanceof ApiError && err.field && FIELDS.includes(err.field) ? err.field : null;
    const text = errorMessage(err) || t("error.network");
    const input = field ? /** @type {HTMLElement} */ (e[/** @type {"name"} */ (field)]) : null;
    if (err instanceof ApiError && err.code === "conflict" && input) showFieldError(e.error, t("agencies.taken"), input);
    else if (input) showFieldError(e.error, text, input);
    else showFormError(e.error, text);
  } finally {
    e.save.disabled = false;
  }
}

startStaffPage({
  roles: ["supervisor", "admin"],
  onSignedIn: async () => {
    e = els();
    e.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      save();
    });
    e.cancel.addEventListener("click", endEdit);
    const reload = () => load();
    e.filterKind.addEventListener("change", reload);
    e.filterArchived.addEventListener("change", reload);
    e.filterArea.addEventListener("change", reload);
    byId("agencies-filter", HTMLFormElement).addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    bindImport({ kindWord, setNotice, startAction, load });
    renderForm();
    await load();
  },
  onLangChange: () => {
    if (!e) return;
    renderKinds();
    renderRows();
    renderForm();
    renderImport();
    renderNotice();
  },
});
