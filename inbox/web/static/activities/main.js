// @ts-check
// Tsunagu Inbox — the activities page (活動記録): work outside conversations that the grant report
// counts (outreach visits, accompaniment, consultation events, drop-in place visits, talks). A
// form logs one (or edits one from the list); the list shows this fiscal year's (April to March),
// newest first, with totals by kind at the top. Each edits or deletes her own, a supervisor any
// (the server decides; GET /api/activities says which are hers to change). The frame (sign-in,
// nav, language) is lib/staff_page.js.

import { getLang, t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { caseworkWords, loadCaseworkWords, wordFor, wordOf } from "../lib/casework.js";
import { byId, el } from "../lib/dom.js";
import { clearFormError, showFieldError, showFormError } from "../lib/forms.js";
import { call, showToast, startStaffPage, toSignIn } from "../lib/staff_page.js";

/**
 * @typedef {object} ActivityRow
 * @property {number} id
 * @property {string} kind
 * @property {string} day
 * @property {string} place_kind
 * @property {number} people
 * @property {number} new_people
 * @property {string} note
 * @property {{ id: number, name: string | null } | null} staff
 * @property {boolean} editable
 */
/** @typedef {{ kind: string, count: number, people: number, new_people: number }} Total */

const ROLES = ["counselor", "supervisor", "phone_staff"];

const els = {
  period: byId("activities-period", HTMLElement),
  totals: byId("activities-totals", HTMLElement),
  truncated: byId("activities-truncated", HTMLElement),
  form: byId("activity-form", HTMLFormElement),
  formTitle: byId("activity-form-title", HTMLElement),
  kind: byId("activity-kind", HTMLSelectElement),
  day: byId("activity-day", HTMLInputElement),
  place: byId("activity-place", HTMLInputElement),
  people: byId("activity-people", HTMLInputElement),
  newPeople: byId("activity-new", HTMLInputElement),
  note: byId("activity-note", HTMLTextAreaElement),
  error: byId("activity-error", HTMLElement),
  submit: byId("activity-submit", HTMLButtonElement),
  cancel: byId("activity-cancel", HTMLButtonElement),
  said: byId("activity-said", HTMLElement),
  empty: byId("activities-empty", HTMLElement),
  rows: byId("activities-rows", HTMLElement),
};

const state = {
  /** @type {ActivityRow[]} */
  activities: [],
  /** @type {Total[]} */
  totals: [],
  truncated: false,
  from: "",
  to: "",
  /** @type {{ ja: string, en: string } | null} */
  fiscalYear: null,
  /** @type {number | null} the activity the form edits (null: a new one) */
  editing: null,
  /** @type {number | null} the row whose delete asks to be confirmed */
  confirming: null,
};

/** Today in Tokyo, YYYY-MM-DD. */
function tokyoToday() {
  return new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Tokyo" }).format(new Date());
}

/** A count as typed (full-width digits too); NaN when it is not a whole number. @param {HTMLInputElement} input */
function countOf(input) {
  const raw = input.value.normalize("NFKC").trim() || "0";
  return /^\d+$/.test(raw) ? Number(raw) : NaN;
}

/** The period shown, by its fiscal year's name as the server gives it (2026年度（令和8年度）, FY2026 (Reiwa 8)). */
function periodWords() {
  if (!state.from || !state.fiscalYear) return "";
  const name = getLang() === "en" ? state.fiscalYear.en : state.fiscalYear.ja;
  return t("activities.period", { name, from: state.from, to: state.to });
}

function renderKinds() {
  const chosen = els.kind.value;
  els.kind.replaceChildren(
    ...caseworkWords().activity_kinds.map((w) => {
      const o = el("option", "", wordOf(w));
      o.value = w.id;
      return o;
    }),
  );
  if (chosen) els.kind.value = chosen;
}

function renderTotals() {
  els.period.textContent = periodWords();
  const kinds = caseworkWords().activity_kinds;
  els.totals.replaceChildren(
    ...state.totals.map((total) => {
      const li = el("li", "activities-total");
      li.dataset.testid = `activities-total-${total.kind}`;
      li.append(
        el("span", "activities-total-kind", wordFor(kinds, total.kind)),
        el("span", "activities-total-figure", t("activities.totalFigure", total)),
      );
      return li;
    }),
  );
}

/** @param {ActivityRow} a */
function row(a) {
  const tr = el("tr");
  tr.dataset.testid = "activity-row";
  tr.dataset.id = String(a.id);
  const kinds = caseworkWords().activity_kinds;
  tr.append(
    el("td", "", a.day),
    el("td", "", wordFor(kinds, a.kind)),
    el("td", "", a.place_kind),
    el("td", "num", a.people),
    el("td", "num", a.new_people),
    el("td", "activities-note", a.note),
    el("td", "", (a.staff && a.staff.name) || ""),
  );
  const actions = el("td", "activities-actions");
  if (a.editable) {
    const edit = el("button", "btn btn-small btn-quiet", t("activities.edit"));
    edit.type = "button";
    edit.dataset.edit = String(a.id);
    edit.dataset.testid = "activity-edit";
    edit.setAttribute("aria-label", t("activities.editOne", { day: a.day, kind: wordFor(kinds, a.kind) }));
    const asking = state.confirming === a.id;
    const del = el("button", asking ? "btn btn-small btn-danger" : "btn btn-small btn-quiet", t(asking ? "activities.confirmDelete" : "activities.delete"));
    del.type = "button";
    del.dataset.delete = String(a.id);
    del.dataset.testid = "activity-delete";
    del.setAttribute("aria-label", t(asking ? "activities.confirmDeleteOne" : "activities.deleteOne", { day: a.day, kind: wordFor(kinds, a.kind) }));
    actions.append(edit, del);
  }
  tr.append(actions);
  return tr;
}

function renderList() {
  els.rows.replaceChildren(...state.activities.map(row));
  els.empty.hidden = state.activities.length > 0;
  els.truncated.hidden = !state.truncated; // the newest listed; the totals count them all
}

function renderForm() {
  els.formTitle.textContent = t(state.editing === null ? "activities.new" : "activities.editing");
  els.submit.textContent = t(state.editing === null ? "activities.save" : "activities.saveEdit");
  els.cancel.hidden = state.editing === null;
  els.place.maxLength = caseworkWords().max_place_chars;
}

function render() {
  renderKinds();
  renderTotals();
  renderList();
  renderForm();
}

async function load() {
  const data = await call("GET", "/api/activities");
  if (!data) return;
  state.activities = data.activities;
  state.totals = data.totals;
  state.truncated = Boolean(data.truncated);
  state.from = data.from;
  state.to = data.to;
  state.fiscalYear = data.fiscal_year || null;
  render();
}

function resetForm() {
  state.editing = null;
  els.kind.selectedIndex = 0;
  els.day.value = tokyoToday();
  els.place.value = "";
  els.people.value = "0";
  els.newPeople.value = "0";
  els.note.value = "";
  clearFormError(els.error, els.form);
  renderForm();
}

/** @param {number} id */
function startEdit(id) {
  const a = state.activities.find((x) => x.id === id);
  if (!a) return;
  state.editing = id;
  els.kind.value = a.kind;
  els.day.value = a.day;
  els.place.value = a.place_kind;
  els.people.value = String(a.people);
  els.newPeople.value = String(a.new_people);
  els.note.value = a.note;
  els.said.textContent = "";
  clearFormError(els.error, els.form);
  renderForm();
  els.kind.focus();
}

/** The element each request field is entered in. @type {Record<string, HTMLElement>} */
const FIELDS = {
  kind: els.kind,
  day: els.day,
  place_kind: els.place,
  people: els.people,
  new_people: els.newPeople,
  note: els.note,
};

async function submit() {
  clearFormError(els.error, els.form);
  const people = countOf(els.people);
  const newPeople = countOf(els.newPeople);
  if (!els.day.value) return showFieldError(els.error, t("activities.needDay"), els.day);
  if (Number.isNaN(people)) return showFieldError(els.error, t("activities.badCount"), els.people);
  if (Number.isNaN(newPeople) || newPeople > people) {
    return showFieldError(els.error, t("activities.badNew"), els.newPeople);
  }
  const body = {
    kind: els.kind.value,
    day: els.day.value,
    place_kind: els.place.value.trim(),
    people,
    new_people: newPeople,
    note: els.note.value.trim(),
  };
  const editing = state.editing;
  els.submit.disabled = true;
  try {
    if (editing === null) await api("POST", "/api/activities", body);
    else await api("PATCH", `/api/activities/${encodeURIComponent(editing)}`, body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return toSignIn();
    const text = (err instanceof Error && err.message) || t("error.network");
    const field = err instanceof ApiError && err.field ? FIELDS[err.field] : null;
    if (field) showFieldError(els.error, text, field);
    else showFormError(els.error, text);
    return;
  } finally {
    els.submit.disabled = false;
  }
  resetForm();
  els.said.textContent = t(editing === null ? "activities.logged" : "activities.saved");
  await load();
}

/** @param {number} id */
async function remove(id) {
  if (state.confirming !== id) {
    state.confirming = id;
    renderList();
    const again = els.rows.querySelector(`button[data-delete="${id}"]`);
    if (again instanceof HTMLElement) again.focus();
    return;
  }
  state.confirming = null;
  try {
    await api("DELETE", `/api/activities/${encodeURIComponent(id)}`); // 204: null
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return toSignIn();
    showToast((err instanceof Error && err.message) || t("error.network"));
    return renderList();
  }
  if (state.editing === id) resetForm();
  els.said.textContent = t("activities.deleted");
  await load();
}

function bind() {
  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  els.cancel.addEventListener("click", () => {
    resetForm();
    els.kind.focus();
  });
  els.rows.addEventListener("click", (e) => {
    const target = e.target instanceof Element ? e.target.closest("button") : null;
    if (!(target instanceof HTMLButtonElement)) return;
    if (target.dataset.edit) startEdit(Number(target.dataset.edit));
    else if (target.dataset.delete) remove(Number(target.dataset.delete));
  });
}

startStaffPage({
  roles: ROLES,
  onSignedIn: async () => {
    bind();
    await loadCaseworkWords();
    resetForm();
    render();
    await load();
  },
  onLangChange: render,
});
