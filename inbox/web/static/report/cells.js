// @ts-check
// One figure of the report as the page shows it. A suppressed cell comes without its value (the
// server never sends it): "small" is a count under k, "complementary" a cell hidden so that a
// small one cannot be worked out from the others and the totals.

import { getLang, t } from "../i18n.js";

/**
 * @typedef {object} Cell
 * @property {number | null} value
 * @property {"small" | "complementary"} [mark]
 */
/** @typedef {{ja: string, en: string}} Words */

/**
 * @param {Cell | undefined} cell
 * @param {number} k
 * @returns {string}
 */
export function cellText(cell, k) {
  if (!cell) return "";
  if (cell.mark === "small") return t("report.small", { k });
  if (cell.mark === "complementary") return t("report.complementary");
  return cell.value === null ? "" : cell.value.toLocaleString(getLang() === "ja" ? "ja-JP" : "en-US");
}

/**
 * Words for an id, from the report's own labels (the server's, ja and en).
 * @param {Record<string, Words>} labels
 * @param {string} id
 */
export function words(labels, id) {
  const w = labels[id];
  if (!w) return id;
  return getLang() === "en" ? w.en : w.ja;
}

/**
 * The value of a shown cell; null for a suppressed or missing one.
 * @param {Cell | undefined} cell
 */
export function shown(cell) {
  return cell && !cell.mark && typeof cell.value === "number" ? cell.value : null;
}
