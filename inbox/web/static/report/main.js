// @ts-check
// Tsunagu Inbox — the report page: a period's figures for the grant report (the fiscal year,
// April to March, by default), against the year's targets, with charts, the counting rules, a CSV
// for Excel and a printable A4 sheet. The figures, the suppression of small cells and the words
// of every row come from /api/report; this page lays them out. The period lives in the address,
// so a reload or a shared link shows the same report.

import { getLang, t } from "../i18n.js";
import { api } from "../lib/api.js";
import { byId, errorMessage } from "../lib/dom.js";
import { showFormError, clearFormError } from "../lib/forms.js";
import { call, showToast, startStaffPage } from "../lib/staff_page.js";
import { renderAgesChart, renderMonthsChart } from "./charts.js";
import { renderBreakdowns, renderFigures, renderRules, renderSatisfaction } from "./tables.js";

/** @typedef {import("./tables.js").Report} Report */

const YEARS_OFFERED = 6; // this fiscal year and the five before it
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const els = {
  form: byId("report-period", HTMLFormElement),
  fy: byId("report-fy", HTMLSelectElement),
  from: byId("report-from", HTMLInputElement),
  to: byId("report-to", HTMLInputElement),
  error: byId("report-form-error", HTMLElement),
  csv: byId("report-csv", HTMLAnchorElement),
  print: byId("report-print", HTMLButtonElement),
  status: byId("report-status", HTMLElement),
  sheet: byId("report-sheet", HTMLElement),
  title: byId("report-title", HTMLElement),
  range: byId("report-range", HTMLElement),
  figures: byId("report-figures", HTMLTableElement),
  breakdowns: byId("report-breakdowns", HTMLElement),
  satisfaction: byId("report-satisfaction", HTMLElement),
  rules: byId("report-rules", HTMLElement),
  monthsChart: byId("report-chart-months", HTMLElement),
  agesChart: byId("report-chart-ages", HTMLElement),
};

const state = {
  /** @type {Report | null} */
  report: null,
  seq: 0,
  printRecorded: false, // the print button recorded the print it is about to start
};

/** Today in Asia/Tokyo, "YYYY-MM-DD": the desk's calendar, whatever the browser's zone. */
function tokyoToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date());
}

/**
 * The fiscal year (April to March) a "YYYY-MM-DD" day belongs to.
 * @param {string} day
 */
export function fiscalYearOf(day) {
  const [y, m] = day.split("-").map(Number);
  return m >= 4 ? y : y - 1;
}

function fillYears() {
  const current = fiscalYearOf(tokyoToday());
  const chosen = els.fy.value;
  const options = [];
  for (let fy = current; fy > current - YEARS_OFFERED; fy--) {
    const o = document.createElement("option");
    o.value = String(fy);
    o.textContent = t("report.fy", { year: fy });
    options.push(o);
  }
  const custom = document.createElement("option");
  custom.value = "";
  custom.textContent = t("report.fy.custom");
  options.push(custom);
  els.fy.replaceChildren(...options);
  els.fy.value = chosen || String(current);
}

/** The query the form asks for: a fiscal year, or a period of days. */
function formQuery() {
  const q = new URLSearchParams();
  if (els.fy.value) q.set("fy", els.fy.value);
  else {
    q.set("from", els.from.value);
    q.set("to", els.to.value);
  }
  return q;
}

/** @param {URLSearchParams} q */
function fillForm(q) {
  const fy = q.get("fy");
  if (q.get("from") || q.get("to")) {
    els.fy.value = "";
    els.from.value = q.get("from") || "";
    els.to.value = q.get("to") || "";
  } else if (fy && [...els.fy.options].some((o) => o.value === fy)) {
    els.fy.value = fy;
  }
  syncDates();
}

/** The day fields follow a chosen fiscal year; they are typed only for a period of one's own. */
function syncDates() {
  const custom = els.fy.value === "";
  els.from.disabled = !custom;
  els.to.disabled = !custom;
  if (!custom) {
    const fy = Number(els.fy.value);
    els.from.value = `${fy}-04-01`;
    els.to.value = `${fy + 1}-03-31`;
  }
}

/** A problem the server would refuse, said before asking it; null when the form is fine. */
function formProblem() {
  if (els.fy.value) return null;
  if (!DAY.test(els.from.value)) return { text: t("report.error.from"), field: "from" };
  if (!DAY.test(els.to.value)) return { text: t("report.error.to"), field: "to" };
  if (els.to.value < els.from.value) return { text: t("report.error.order"), field: "to" };
  return null;
}

/** @param {URLSearchParams} q */
function exportLinks(q) {
  const csv = new URLSearchParams(q);
  csv.set("lang", getLang());
  els.csv.href = `/api/report.csv?${csv}`;
}

/** @param {URLSearchParams} q */
async function show(q) {
  const seq = ++state.seq;
  els.status.textContent = t("report.loading");
  const report = /** @type {Report | null} */ (await call("GET", `/api/report?${q}`));
  if (seq !== state.seq) return;
  if (!report) {
    els.status.textContent = "";
    return;
  }
  state.report = report;
  history.replaceState(null, "", `${window.location.pathname}?${q}`);
  exportLinks(q);
  render();
}

function render() {
  const report = state.report;
  if (!report) return;
  const names = report.period.names;
  els.title.textContent = names
    ? t("report.sheetTitleFy", { name: getLang() === "en" ? names.en : names.ja })
    : t("report.sheetTitle");
  els.range.textContent = t("report.range", { from: report.period.from, to: report.period.to });
  renderFigures(els.figures, report);
  renderMonthsChart(els.monthsChart, report);
  renderAgesChart(els.agesChart, report);
  renderBreakdowns(els.breakdowns, report);
  renderSatisfaction(els.satisfaction, report);
  renderRules(els.rules, report);
  els.sheet.hidden = false;
  els.status.textContent = t("report.shown", { from: report.period.from, to: report.period.to });
}

function bind() {
  els.fy.addEventListener("change", syncDates);
  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearFormError(els.error, els.form);
    const problem = formProblem();
    if (problem) {
      showFormError(els.error, problem.text, problem.field === "from" ? els.from : els.to);
      return;
    }
    void show(formQuery());
  });
  // The CSV is fetched by the browser itself (a download); the server audits it.
  els.print.addEventListener("click", async () => {
    const report = state.report;
    if (!report) return;
    // Printing is an export like the CSV: recorded first (not printed when that fails).
    try {
      await recordPrint(report);
    } catch (e) {
      showToast(errorMessage(e));
      return;
    }
    state.printRecorded = true;
    window.print();
  });
  // Printed from the browser's own menu (Ctrl+P): recorded all the same, as it starts.
  window.addEventListener("beforeprint", () => {
    if (state.printRecorded) {
      state.printRecorded = false; // the button's print: recorded already
      return;
    }
    if (state.report) recordPrint(state.report).catch((e) => showToast(errorMessage(e)));
  });
}

/** @param {Report} report */
function recordPrint(report) {
  return api("POST", "/api/report/exports", { kind: "print", from: report.period.from, to: report.period.to });
}

startStaffPage({
  roles: ["supervisor", "admin"],
  onLangChange: () => {
    fillYears();
    if (state.report) {
      exportLinks(formQuery());
      render();
    }
  },
  onSignedIn: async () => {
    fillYears();
    bind();
    fillForm(new URLSearchParams(window.location.search));
    await show(formQuery());
  },
});
