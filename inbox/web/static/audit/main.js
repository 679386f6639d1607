// @ts-check
// Tsunagu Inbox — the audit page: who did what to which conversation, when (reads included),
// filtered by person, kind, conversation and days, a page at a time, and as a CSV download with
// the same filters. The frame (sign-in, nav, language) is lib/staff_page.js. The filters live in
// the page's address too, so a reload or a shared link shows the same records.

import { api } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { call, hasAnyRole, startStaffPage } from "../lib/staff_page.js";
import { getLang, t } from "../i18n.js";
import { ACCOUNT_KINDS, auditRow, kindWord, knownKinds } from "./rows.js";

/** @typedef {import("./rows.js").AuditEvent} AuditEvent */
/** @typedef {import("./rows.js").Outcome} Outcome */

const PAGE = 50;
const DEFAULT_ACTOR = "staff";

const els = {
  form: byId("audit-filters", HTMLFormElement),
  actor: byId("audit-actor", HTMLSelectElement),
  kind: byId("audit-kind", HTMLSelectElement),
  conversation: byId("audit-conversation", HTMLInputElement),
  from: byId("audit-from", HTMLInputElement),
  to: byId("audit-to", HTMLInputElement),
  error: byId("audit-form-error", HTMLElement),
  reset: byId("audit-reset", HTMLButtonElement),
  download: byId("audit-download", HTMLAnchorElement),
  status: byId("audit-status", HTMLElement),
  rows: byId("audit-rows", HTMLElement),
  more: byId("audit-more", HTMLButtonElement),
};

// The staff members in the person select, under a heading in the page's language.
const staffGroup = document.createElement("optgroup");

const state = {
  /** @type {AuditEvent[]} */
  events: [],
  /** @type {number | null} */
  nextBefore: null,
  /** @type {Outcome[]} */
  outcomes: [],
  /** @type {URLSearchParams} the filters shown */
  query: new URLSearchParams(),
  loading: false,
  seq: 0,
  // an admin who is not also a supervisor: the events about accounts alone (the server's rule)
  accountsOnly: false,
};

/** The conversation number as typed: full-width digits (an IME's) and a leading "#" taken. */
function conversationNumber() {
  return els.conversation.value.normalize("NFKC").trim().replace(/^#/, "");
}

/** The filters as the form holds them (empty ones left out). */
function formQuery() {
  const q = new URLSearchParams();
  q.set("actor", els.actor.value); // "any" too: without it, the page's default (staff) holds
  if (els.kind.value) q.set("kind", els.kind.value);
  const conversation = conversationNumber();
  if (conversation && !state.accountsOnly) q.set("conversation", conversation);
  if (els.from.value) q.set("from", els.from.value);
  if (els.to.value) q.set("to", els.to.value);
  return q;
}

/** @param {URLSearchParams} q */
function fillForm(q) {
  const actor = q.get("actor") || DEFAULT_ACTOR;
  els.actor.value = [...els.actor.options].some((o) => o.value === actor) ? actor : DEFAULT_ACTOR;
  const kind = q.get("kind") || "";
  els.kind.value = [...els.kind.options].some((o) => o.value === kind) ? kind : "";
  els.conversation.value = q.get("conversation") || "";
  els.from.value = q.get("from") || "";
  els.to.value = q.get("to") || "";
}

/** A problem the server would refuse, said before asking it; null when the form is fine. */
function formProblem() {
  const conversation = conversationNumber();
  if (conversation && !/^\d{1,18}$/.test(conversation)) return { key: "audit.badConversation", at: els.conversation };
  if (els.from.value && els.to.value && els.from.value > els.to.value) return { key: "audit.badRange", at: els.to };
  return null;
}

function renderDownload() {
  const q = new URLSearchParams(state.query);
  q.set("lang", getLang());
  els.download.href = `/api/audit.csv?${q}`;
}

function renderStatus() {
  if (state.loading) els.status.textContent = t("audit.loading");
  else if (!state.events.length) els.status.textContent = t("audit.empty");
  else {
    const key = state.nextBefore === null ? "audit.countAll" : "audit.count";
    els.status.textContent = t(key, { n: state.events.length });
  }
  // while a page loads the button stays, aria-disabled (hiding or disabling it drops her focus)
  els.more.hidden = state.nextBefore === null;
  els.more.setAttribute("aria-disabled", String(state.loading));
}

function renderRows() {
  els.rows.replaceChildren(...state.events.map((e) => auditRow(e, state.outcomes)));
}

/** Show the first page for the filters in `q`. @param {URLSearchParams} q */
async function show(q) {
  state.query = q;
  state.events = [];
  state.nextBefore = null;
  const address = q.toString() ? `?${q}` : window.location.pathname;
  window.history.replaceState(null, "", address);
  renderDownload();
  renderRows();
  await load();
}

/** Fetch the next page (the first when nothing is shown). */
async function load() {
  const seq = ++state.seq;
  state.loading = true;
  renderStatus();
  const q = new URLSearchParams(state.query);
  q.set("limit", String(PAGE));
  if (state.nextBefore !== null) q.set("before", String(state.nextBefore));
  const data = await call("GET", `/api/audit?${q}`);
  if (seq !== state.seq) return; // newer filters were asked for meanwhile
  state.loading = false;
  if (data) {
    /** @type {AuditEvent[]} */
    const found = Array.isArray(data.events) ? data.events : [];
    state.events.push(...found);
    state.nextBefore = typeof data.next_before === "number" ? data.next_before : null;
    els.rows.append(...found.map((e) => auditRow(e, state.outcomes)));
  }
  renderStatus();
}

function renderKinds() {
  const chosen = els.kind.value;
  const any = els.kind.options[0];
  const options = knownKinds()
    .filter((kind) => !state.accountsOnly || ACCOUNT_KINDS.includes(kind))
    .map((kind) => ({ kind, word: kindWord(kind) }))
    .sort((a, b) => a.word.localeCompare(b.word, getLang()))
    .map(({ kind, word }) => {
      const option = el("option", "", word);
      option.value = kind;
      return option;
    });
  els.kind.replaceChildren(any, ...options);
  els.kind.value = chosen;
}

/** The people to filter by: every staff member, by name. */
async function loadStaff() {
  const data = await call("GET", "/api/staff");
  const staff = data && Array.isArray(data.staff) ? data.staff : [];
  const group = staffGroup;
  staff
    .slice()
    .sort((/** @type {any} */ a, /** @type {any} */ b) => String(a.display_name).localeCompare(String(b.display_name), getLang()))
    .forEach((/** @type {{id: number, display_name: string}} */ s) => {
      const option = el("option", "", s.display_name);
      option.value = String(s.id);
      group.append(option);
    });
  els.actor.append(group);
}

/** Outcome words for closing events (a supervisor's: admins see no conversation's details). */
async function loadOutcomes() {
  try {
    const data = await api("GET", "/api/outcomes");
    state.outcomes = data && Array.isArray(data.outcomes) ? data.outcomes : [];
  } catch {
    state.outcomes = []; // the ids are shown instead
  }
}

function bind() {
  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    const problem = formProblem();
    els.error.hidden = !problem;
    els.error.textContent = problem ? t(problem.key) : "";
    for (const input of [els.conversation, els.to]) input.removeAttribute("aria-invalid");
    if (problem) {
      problem.at.setAttribute("aria-invalid", "true");
      problem.at.focus();
      return;
    }
    void show(formQuery());
  });
  els.reset.addEventListener("click", () => {
    fillForm(new URLSearchParams());
    els.error.hidden = true;
    void show(formQuery());
  });
  els.more.addEventListener("click", async () => {
    if (state.loading) return; // a page is on its way
    await load();
    // The last page hides the button she pressed: her place goes to the count, not the page top.
    if (els.more.hidden) els.status.focus();
  });
}

/** An admin's page: what it holds is said, and no conversation number is asked for. */
function showAccountsOnly() {
  const lead = document.querySelector(".audit-lead");
  if (lead instanceof HTMLElement) {
    lead.dataset.i18n = "audit.leadAccounts";
    lead.textContent = t("audit.leadAccounts");
  }
  const field = els.conversation.closest(".field");
  if (field instanceof HTMLElement) field.hidden = true;
}

function onLangChange() {
  staffGroup.label = t("audit.actor");
  renderKinds();
  renderDownload();
  renderRows();
  renderStatus();
}

startStaffPage({
  roles: ["supervisor", "admin"],
  onLangChange,
  onSignedIn: async (me) => {
    state.accountsOnly = !hasAnyRole(me, ["supervisor"]);
    if (state.accountsOnly) showAccountsOnly();
    staffGroup.label = t("audit.actor");
    renderKinds();
    bind();
    await Promise.all([loadStaff(), hasAnyRole(me, ["supervisor"]) ? loadOutcomes() : null]);
    const initial = new URLSearchParams(window.location.search);
    fillForm(initial);
    await show(formQuery());
  },
});
