// @ts-check
// The report's tables: the figures by month with total, target and 達成率 side by side (as the
// programs' own reports lay them out), the breakdowns, the satisfaction and the counting rules.
// Everything is written with textContent.

import { getLang, t } from "../i18n.js";
import { el } from "../lib/dom.js";
import { cellText, words } from "./cells.js";

/** @typedef {import("./cells.js").Cell} Cell */
/** @typedef {import("./cells.js").Words} Words */
/**
 * @typedef {object} Figure
 * @property {string} id
 * @property {string} group
 * @property {Cell[]} months
 * @property {Cell} total
 * @property {number | null} target
 * @property {number | null} achievement
 * @property {boolean} additive
 */
/**
 * @typedef {object} Breakdown
 * @property {string} id
 * @property {Cell} total
 * @property {{id: string, value: Cell}[]} items
 */
/**
 * @typedef {object} Report
 * @property {{from: string, to: string, fiscal_year: number | null, names: Words | null}} period
 * @property {{unit: string, k: number, words: string[]}} rules the counting rules' words (i18n keys)
 * @property {string[]} months
 * @property {Figure[]} figures
 * @property {Breakdown[]} breakdowns
 * @property {{answered: number, top_two: number, share: number | null, answers: {id: string, value: Cell}[]}} satisfaction
 * @property {Record<string, Words>} labels
 */

const EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A month's column heading: "4月" / "Apr", with the year where the year turns (and first).
 * @param {string} ym "YYYY-MM"
 * @param {boolean} withYear
 */
export function monthHeading(ym, withYear) {
  const [y, m] = ym.split("-").map(Number);
  if (getLang() === "en") return withYear ? `${EN_MONTHS[m - 1]} ${y}` : EN_MONTHS[m - 1];
  return withYear ? `${y}年${m}月` : `${m}月`;
}

/** @param {number | null} n */
function number(n) {
  return n === null ? "—" : n.toLocaleString(getLang() === "ja" ? "ja-JP" : "en-US");
}

/** @param {number | null} rate */
function percent(rate) {
  return rate === null ? "—" : `${rate.toFixed(1)}%`;
}

/**
 * @param {HTMLElement} parent
 * @param {string} tag
 * @param {string} text
 * @param {string} [className]
 */
function cell(parent, tag, text, className) {
  const c = el(/** @type {"td"} */ (tag), className, text);
  if (tag === "th") c.setAttribute("scope", parent.parentElement?.tagName === "THEAD" ? "col" : "row");
  parent.append(c);
  return c;
}

/**
 * @param {HTMLTableElement} table
 * @param {Report} report
 */
export function renderFigures(table, report) {
  const k = report.rules.k;
  const head = el("thead");
  const hr = el("tr");
  head.append(hr);
  cell(hr, "th", t("report.col.figure"));
  report.months.forEach((ym, i) => {
    cell(hr, "th", monthHeading(ym, i === 0 || ym.endsWith("-01")), "num");
  });
  for (const key of ["report.col.total", "report.col.target", "report.col.achievement"]) {
    cell(hr, "th", t(key), "num");
  }
  const body = el("tbody");
  for (const f of report.figures) {
    const tr = el("tr");
    tr.dataset.figure = f.id;
    const name = cell(tr, "th", words(report.labels, f.id), f.id.includes(".") ? "sub" : "");
    if (!f.additive) name.append(el("span", "report-note-mark", "*"));
    for (const m of f.months) cell(tr, "td", cellText(m, k), m.mark ? `num ${m.mark}` : "num");
    cell(tr, "td", cellText(f.total, k), "num total");
    cell(tr, "td", number(f.target), "num");
    cell(tr, "td", percent(f.achievement), "num");
    body.append(tr);
  }
  const caption = el("caption", "report-caption", t("report.figuresCaption"));
  table.replaceChildren(caption, head, body);
}

/**
 * @param {HTMLElement} box
 * @param {Report} report
 */
export function renderBreakdowns(box, report) {
  const k = report.rules.k;
  const tables = report.breakdowns.map((b) => {
    const table = el("table", "report-table report-breakdown");
    table.dataset.testid = `report-breakdown-${b.id}`;
    const caption = el("caption", "report-caption", t(`report.breakdown.${b.id}`));
    // a consultation may have several topics: their total counts topics, not consultations
    if (b.id === "topics") caption.append(el("span", "report-caption-note", t("report.topicsNote")));
    table.append(caption);
    const head = el("thead");
    const hr = el("tr");
    cell(hr, "th", t("report.col.item"));
    cell(hr, "th", t("report.col.count"), "num");
    head.append(hr);
    const body = el("tbody");
    for (const item of b.items) {
      const tr = el("tr");
      cell(tr, "th", words(report.labels, item.id));
      cell(tr, "td", cellText(item.value, k), item.value.mark ? `num ${item.value.mark}` : "num");
      body.append(tr);
    }
    const foot = el("tfoot");
    const fr = el("tr");
    cell(fr, "th", t("report.col.total"));
    cell(fr, "td", cellText(b.total, k), "num total");
    foot.append(fr);
    table.append(head, body, foot);
    return table;
  });
  box.replaceChildren(...tables);
}

/**
 * @param {HTMLElement} box
 * @param {Report} report
 */
export function renderSatisfaction(box, report) {
  const s = report.satisfaction;
  const lead = el(
    "p",
    "report-satisfaction-lead",
    s.share === null
      ? t("report.satisfaction.none")
      : t("report.satisfaction.share", { share: s.share.toFixed(1), n: number(s.answered) }),
  );
  const table = el("table", "report-table report-breakdown");
  table.dataset.testid = "report-satisfaction-table";
  table.append(el("caption", "report-caption", t("report.satisfaction.answers")));
  const body = el("tbody");
  for (const a of s.answers) {
    const tr = el("tr");
    cell(tr, "th", words(report.labels, `survey.${a.id}`));
    cell(tr, "td", cellText(a.value, report.rules.k), a.value.mark ? `num ${a.value.mark}` : "num");
    body.append(tr);
  }
  table.append(body);
  box.replaceChildren(lead, table);
}

/**
 * The counting rules, as the server lists them for this report (its unit and its k).
 * @param {HTMLElement} list
 * @param {Report} report
 */
export function renderRules(list, report) {
  list.replaceChildren(...report.rules.words.map((key) => el("li", "", t(key, { k: report.rules.k }))));
}
