// @ts-check
// The report's two charts, drawn in the page as SVG (no library, nothing downloaded): monthly
// consultations as bars stacked by channel, and consulters by age group. A suppressed cell has no
// value here either: its part of a month's bar is drawn as "hidden" (the month's total less the
// channels shown), and an age group under k gets no bar but its "<5" beside the name. The table
// above holds the same figures for a screen reader; the chart says so in its description.

import { t } from "../i18n.js";
import { cellText, shown, words } from "./cells.js";
import { monthHeading } from "./tables.js";

/** @typedef {import("./tables.js").Report} Report */

const SVG = "http://www.w3.org/2000/svg";
export const CHANNELS = ["webchat", "mail", "sms", "phone", "line"];

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * A round step for the axis: 1, 2 or 5 times a power of ten, about 4 ticks up to `max`.
 * @param {number} max
 */
export function niceStep(max) {
  if (max <= 4) return 1;
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/**
 * @param {string} titleId
 * @param {string} desc
 * @param {number} width
 * @param {number} height
 */
function frame(titleId, desc, width, height) {
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": titleId,
    class: "report-svg",
  });
  root.append(svg("desc", {}, desc));
  return root;
}

/**
 * Monthly consultations, stacked by channel.
 * @param {HTMLElement} box
 * @param {Report} report
 */
export function renderMonthsChart(box, report) {
  const byId = new Map(report.figures.map((f) => [f.id, f]));
  const total = byId.get("consultations");
  if (!total) return box.replaceChildren();
  const channels = CHANNELS.filter((c) => byId.has(`consultations.${c}`));
  const months = report.months;
  const heights = months.map((_, i) => {
    const whole = shown(total.months[i]);
    const parts = channels.reduce((s, c) => s + (shown(byId.get(`consultations.${c}`)?.months[i]) ?? 0), 0);
    return Math.max(whole ?? 0, parts);
  });
  const max = Math.max(1, ...heights);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const W = 720, H = 300, left = 48, right = 8, upper = 12, lower = 40;
  const plotH = H - upper - lower;
  const slot = (W - left - right) / Math.max(1, months.length);
  const barW = Math.min(40, slot * 0.7);
  const y = (/** @type {number} */ v) => upper + plotH - (v / top) * plotH;
  const root = frame("report-chart-months-caption", t("report.chart.desc"), W, H);
  for (let v = 0; v <= top; v += step) {
    root.append(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "report-grid" }));
    root.append(svg("text", { x: left - 6, y: y(v) + 4, class: "report-axis", "text-anchor": "end" }, String(v)));
  }
  months.forEach((ym, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = 0;
    for (const c of channels) {
      const v = shown(byId.get(`consultations.${c}`)?.months[i]) ?? 0;
      if (v > 0) {
        const rect = svg("rect", { x, y: y(base + v), width: barW, height: y(base) - y(base + v), class: `report-rect ch-${c}` });
        rect.append(svg("title", {}, `${monthHeading(ym, true)} ${words(report.labels, `consultations.${c}`)}: ${v}`));
        root.append(rect);
        base += v;
      }
    }
    const whole = shown(total.months[i]);
    if (whole !== null && whole > base) {
      const rect = svg("rect", { x, y: y(whole), width: barW, height: y(base) - y(whole), class: "report-rect ch-hidden" });
      rect.append(svg("title", {}, `${monthHeading(ym, true)} ${t("report.chart.hidden")}: ${whole - base}`));
      root.append(rect);
    }
    root.append(svg("text", { x: x + barW / 2, y: H - lower + 16, class: "report-axis", "text-anchor": "middle" }, monthHeading(ym, false)));
  });
  const legend = document.createElement("ul");
  legend.className = "report-legend";
  for (const c of [...channels, "hidden"]) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `report-swatch ch-${c}`;
    swatch.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.textContent = c === "hidden" ? t("report.chart.hidden") : words(report.labels, `consultations.${c}`);
    item.append(swatch, name);
    legend.append(item);
  }
  box.replaceChildren(root, legend);
}

/**
 * Consulters by age group: horizontal bars; a suppressed group shows its mark and no bar.
 * @param {HTMLElement} box
 * @param {Report} report
 */
export function renderAgesChart(box, report) {
  const ages = report.breakdowns.find((b) => b.id === "age_groups");
  if (!ages) return box.replaceChildren();
  const values = ages.items.map((i) => shown(i.value));
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  // narrower than the months' chart, so that its words are as large as the page's text
  const row = 30, left = 136, right = 56, upper = 8; // left: "Teens or younger" whole
  const W = 480, H = upper + ages.items.length * row + 24;
  const x = (/** @type {number} */ v) => left + (v / top) * (W - left - right);
  const root = frame("report-chart-ages-caption", t("report.chart.desc"), W, H);
  for (let v = 0; v <= top; v += step) {
    root.append(svg("line", { x1: x(v), x2: x(v), y1: upper, y2: H - 20, class: "report-grid" }));
    root.append(svg("text", { x: x(v), y: H - 6, class: "report-axis", "text-anchor": "middle" }, String(v)));
  }
  ages.items.forEach((item, i) => {
    const yy = upper + i * row;
    root.append(svg("text", { x: left - 8, y: yy + row / 2 + 4, class: "report-axis", "text-anchor": "end" }, words(report.labels, item.id)));
    const v = values[i];
    const end = v === null ? left : x(v);
    if (v !== null && v > 0) {
      root.append(svg("rect", { x: left, y: yy + 4, width: end - left, height: row - 8, class: "report-rect ch-ages" }));
    }
    root.append(svg("text", { x: end + 6, y: yy + row / 2 + 4, class: "report-value" }, cellText(item.value, report.rules.k)));
  });
  box.replaceChildren(root);
}
