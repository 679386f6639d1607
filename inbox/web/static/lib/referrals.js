// @ts-check
// Referrals to partner agencies (issue 17, casework), shared by the console's conversation view
// and the phone desk's call form: the fields of one referral (the agency, picked by kind; the
// kind of help; the day, today in Tokyo by default; a note), and a panel that lists a
// conversation's or a call's referrals and records one (POST .../referrals). The directory and
// the words of its kinds come from GET /api/agencies (active agencies only). The server decides
// who may record and delete; one's own referral shows a delete button (a mistake).

import { t, getLang } from "../i18n.js";
import { api, ApiError } from "./api.js";
import { el, errorMessage } from "./dom.js";
import { clearFormError, showFieldError, showFormError } from "./forms.js";
import { tokyoToday } from "../phone/tokyo.js";

/** @typedef {{id: string, ja: string, en: string}} Word */
/** @typedef {{id: number, name: string, kind: string, area: string}} AgencyRef */

/** The directory, fetched once per page and again on demand. */
const directory = {
  /** @type {AgencyRef[]} */ agencies: [],
  /** @type {Word[]} */ kinds: [],
  /** @type {Word[]} */ referralKinds: [],
  /** @type {Promise<boolean> | null} */ loading: null,
};

/** Fetch the active agencies (again when `fresh`). @param {boolean} [fresh] */
export function loadDirectory(fresh = false) {
  if (!directory.loading || fresh) {
    directory.loading = api("GET", "/api/agencies").then(
      (data) => {
        directory.agencies = data.agencies;
        directory.kinds = data.kinds;
        directory.referralKinds = data.referral_kinds;
        return true;
      },
      () => {
        directory.loading = null;
        return false;
      },
    );
  }
  return directory.loading;
}

/** @param {Word[]} list @param {string} id */
function word(list, id) {
  const found = list.find((w) => w.id === id);
  return found ? (getLang() === "en" ? found.en : found.ja) : id;
}

/** An agency kind's word. @param {string} id */
export function agencyKindWord(id) {
  return word(directory.kinds, id);
}

/** A kind of help's word (情報提供, 連携, 同行支援). @param {string} id */
export function referralKindWord(id) {
  return word(directory.referralKinds, id);
}

/**
 * One labelled field in a .field block.
 * @param {string} id @param {string} key @param {HTMLElement} input
 */
function field(id, key, input) {
  input.id = id;
  input.dataset.testid = id;
  const label = el("label", "", t(key));
  label.htmlFor = id;
  label.dataset.key = key;
  const block = el("div", "field");
  block.append(label, input);
  return block;
}

/**
 * The fields of one referral, ids and test ids prefixed with `prefix`.
 * @param {string} prefix
 */
export function referralFields(prefix) {
  const agencyKind = el("select");
  const agency = el("select");
  const kind = el("select");
  const day = el("input");
  day.type = "date";
  const note = el("textarea");
  note.rows = 2;
  note.maxLength = 2000;
  const blocks = [
    field(`${prefix}-agency-kind`, "referrals.agencyKind", agencyKind),
    field(`${prefix}-agency`, "referrals.agency", agency),
    field(`${prefix}-kind`, "referrals.kind", kind),
    field(`${prefix}-day`, "referrals.day", day),
    field(`${prefix}-note`, "referrals.note", note),
  ];
  const fields = { agency, kind, on_day: day, note };

  function renderAgencies() {
    const chosen = agency.value;
    const of = agencyKind.value;
    const shown = directory.agencies.filter((a) => !of || a.kind === of);
    agency.replaceChildren(
      new Option(t("referrals.chooseAgency"), ""),
      ...shown.map((a) => new Option(a.area ? `${a.name}（${a.area}）` : a.name, String(a.id))),
    );
    agency.value = shown.some((a) => String(a.id) === chosen) ? chosen : "";
  }

  /** (Re)draw the choices in the page's language, keeping what was chosen. */
  function render() {
    for (const block of blocks) {
      const label = block.querySelector("label");
      if (label && label.dataset.key) label.textContent = t(label.dataset.key);
    }
    const kindOf = agencyKind.value;
    const used = new Set(directory.agencies.map((a) => a.kind));
    agencyKind.replaceChildren(
      new Option(t("referrals.anyKind"), ""),
      ...directory.kinds.filter((k) => used.has(k.id)).map((k) => new Option(agencyKindWord(k.id), k.id)),
    );
    agencyKind.value = used.has(kindOf) ? kindOf : "";
    const help = kind.value;
    kind.replaceChildren(...directory.referralKinds.map((k) => new Option(referralKindWord(k.id), k.id)));
    if (help) kind.value = help;
    renderAgencies();
    day.max = tokyoToday();
    if (!day.value) day.value = tokyoToday();
  }

  function reset() {
    agency.value = "";
    note.value = "";
    day.value = tokyoToday();
  }

  /** Whether an agency is chosen (the phone form's referral is optional). */
  function chosen() {
    return agency.value !== "";
  }

  /**
   * The request body, or null after saying what is missing next to its field.
   * @param {HTMLElement} error the form's .form-error
   */
  function read(error) {
    if (!agency.value) {
      showFieldError(error, t("referrals.needAgency"), agency);
      return null;
    }
    if (!day.value || day.value > tokyoToday()) {
      showFieldError(error, t("referrals.badDay"), day);
      return null;
    }
    return { agency_id: Number(agency.value), kind: kind.value, on_day: day.value, note: note.value.trim() };
  }

  /** Say the server's error next to the field it names. @param {HTMLElement} error @param {unknown} err */
  function showError(error, err) {
    const name = err instanceof ApiError && err.field ? err.field.replace("agency_id", "agency") : "";
    const input = /** @type {Record<string, HTMLElement>} */ (fields)[name];
    const text = errorMessage(err) || t("error.network");
    if (input) showFieldError(error, text, input);
    else showFormError(error, text);
  }

  agencyKind.addEventListener("change", renderAgencies);
  return { blocks, render, reset, read, chosen, showError };
}

/**
 * The phone desk's call forms: the agency referral, on the call just logged (POST
 * /api/calls/{id}/referrals); the words to add to the form's answer.
 * @param {number} callId @param {Record<string, unknown>} body
 */
export async function referOnCall(callId, body) {
  try {
    await api("POST", `/api/calls/${encodeURIComponent(callId)}/referrals`, body);
    return t("referrals.recordedOnCall");
  } catch (err) {
    return t("referrals.callFailed", { error: errorMessage(err) || t("error.network") });
  }
}

/**
 * A panel listing the referrals at `path()` (a conversation's or a call's) with a form to
 * record one. `mine(staffId)`: whether a referral is hers (she may delete it).
 * @param {{prefix: string, path: () => string | null, mayRecord: () => boolean, mine: (id: unknown) => boolean, onUnauthorized: () => void}} options
 */
export function referralPanel(options) {
  const { prefix } = options;
  // folded to one line by default: the conversation's messages keep the room
  const root = el("details", "referrals");
  root.dataset.testid = `${prefix}-panel`;
  const heading = el("summary", "referrals-heading");
  heading.dataset.testid = `${prefix}-toggle`;
  const list = el("ul", "referrals-list");
  list.dataset.testid = `${prefix}-list`;
  const empty = el("p", "referrals-empty");
  const details = el("details", "referrals-record");
  const summary = el("summary", "referrals-summary");
  summary.dataset.testid = `${prefix}-open`;
  const form = el("form", "referrals-form");
  form.noValidate = true;
  const fields = referralFields(prefix);
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  error.dataset.testid = `${prefix}-error`;
  const submit = el("button", "btn btn-primary btn-small");
  submit.type = "submit";
  submit.dataset.testid = `${prefix}-submit`;
  form.append(...fields.blocks, error, submit);
  details.append(summary, form);
  root.append(heading, list, empty, details);
  /** @type {any[]} */
  let items = [];
  let seq = 0;

  function renderList() {
    heading.textContent = t("referrals.headingCount", { n: items.length });
    summary.textContent = t("referrals.record");
    submit.textContent = t("referrals.submit");
    empty.textContent = t("referrals.none");
    empty.hidden = items.length > 0;
    details.hidden = !options.mayRecord();
    list.replaceChildren(
      ...items.map((r) => {
        const item = el("li", "referral-item");
        item.dataset.testid = `${prefix}-item`;
        const what = `${r.agency.name} ・ ${referralKindWord(r.kind)}`;
        const meta = [r.on_day, r.staff && r.staff.name].filter(Boolean).join(" ・ ");
        item.append(el("span", "referral-what", what), el("span", "referral-meta", meta));
        if (r.note) item.append(el("span", "referral-note", r.note));
        if (r.staff && options.mine(r.staff.id)) {
          const remove = el("button", "btn btn-small btn-quiet", t("referrals.delete"));
          remove.type = "button";
          remove.dataset.testid = `${prefix}-delete`;
          remove.setAttribute("aria-label", t("referrals.deleteOne", { what }));
          remove.addEventListener("click", () => removeOne(r));
          item.append(remove);
        }
        return item;
      }),
    );
  }

  function render() {
    fields.render();
    renderList();
  }

  async function load() {
    const path = options.path();
    const mySeq = ++seq;
    if (!path) {
      items = [];
      return renderList();
    }
    try {
      const [data] = await Promise.all([api("GET", path), loadDirectory()]);
      if (mySeq !== seq) return;
      items = data.referrals;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return options.onUnauthorized();
      items = [];
    }
    render();
  }

  /** @param {any} r */
  async function removeOne(r) {
    if (!window.confirm(t("referrals.confirmDelete"))) return;
    try {
      await api("DELETE", `/api/referrals/${encodeURIComponent(r.id)}`);
    } catch (err) {
      showFormError(error, errorMessage(err) || t("error.network"));
    }
    await load();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearFormError(error, form);
    const path = options.path();
    const body = fields.read(error);
    if (!path || !body) return;
    submit.disabled = true;
    try {
      await api("POST", path, body);
      fields.reset();
      details.open = false; // the list shows what was recorded
      await load();
      summary.focus();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return options.onUnauthorized();
      fields.showError(error, err);
    } finally {
      submit.disabled = false;
    }
  });

  function reset() {
    seq++;
    items = [];
    details.open = false;
    root.open = false;
    fields.reset();
    clearFormError(error, form);
    renderList();
  }

  /** Offer the form or not, as who she is and the record now say. */
  function access() {
    details.hidden = !options.mayRecord();
  }

  return { root, load, render, reset, access };
}
