// @ts-check
// The audit log's rows: one table row per event, in the page's language, times in Japan time.
// The details are the server's safe facts (GET /api/audit: details), worded as the CSV words them
// (inbox/web/audit_csv.py reads the same i18n.js keys).

import { getLang, label, parseTime, t, STRINGS } from "../i18n.js";
import { el } from "../lib/dom.js";

/**
 * @typedef {object} AuditDetails
 * @property {number} [user_id]
 * @property {string | null} [user_name]
 * @property {number} [from_user_id]
 * @property {string | null} [from_name]
 * @property {string} [channel]
 * @property {string} [outcome]
 * @property {string} [anonymity]
 * @property {string[]} [fields]
 * @property {string} [reason]
 * @property {string} [export]
 * @property {string} [period]
 * @property {number} [messages]
 */

/**
 * @typedef {object} AuditEvent
 * @property {number} id
 * @property {string} at
 * @property {number | null} actor_id
 * @property {string | null} actor_name
 * @property {string} kind
 * @property {number | null} conversation_id
 * @property {AuditDetails} details
 */

/** @typedef {{id: string, ja: string, en: string}} Outcome */

/**
 * The kinds an admin who is not also a supervisor reads: the events about accounts (the server
 * decides, inbox/core/audit.py ACCOUNT_KINDS; a test keeps the two lists the same).
 */
export const ACCOUNT_KINDS = Object.freeze([
  "user_created",
  "user_created_by",
  "user_updated",
  "user_enabled",
  "user_disabled",
  "password_reset",
  "password_changed",
  "signed_in",
  "sign_in_failures",
  "counselor_updated",
]);

/** Every event kind with words, in the table's order (i18n.js eventKind.*). */
export function knownKinds() {
  return Object.keys(STRINGS.ja)
    .filter((k) => k.startsWith("eventKind."))
    .map((k) => k.slice("eventKind.".length));
}

/** @param {string} kind */
export function kindWord(kind) {
  return label("eventKind", kind);
}

/** Date and time to the second, in Japan time: 2026/12/07 09:05:03 in Japanese, and in
 * English 2026-12-07 09:05:03 (a day-first or month-first date would be misread by some).
 * @param {string} iso */
export function auditTime(iso) {
  const d = parseTime(iso);
  if (!d) return iso;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "Asia/Tokyo",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(d);
  /** @param {string} type */
  const part = (type) => parts.find((p) => p.type === type)?.value || "";
  const sep = getLang() === "ja" ? "/" : "-";
  const day = [part("year"), part("month"), part("day")].join(sep);
  return `${day} ${part("hour")}:${part("minute")}:${part("second")}`;
}

/**
 * The details in words, as the CSV has them.
 * @param {AuditDetails} d
 * @param {Outcome[]} outcomes
 */
export function detailsText(d, outcomes) {
  /** @type {string[]} */
  const parts = [];
  /** @param {string} key @param {unknown} value */
  const add = (key, value) => parts.push(t(`audit.detail.${key}`, { value }));
  if (d.user_name || d.user_id !== undefined) add("user", d.user_name || d.user_id);
  if (d.from_name || d.from_user_id !== undefined) add("from", d.from_name || d.from_user_id);
  if (d.channel) add("channel", label("channel", d.channel));
  if (d.outcome) {
    const found = outcomes.find((o) => o.id === d.outcome);
    add("outcome", found ? (getLang() === "ja" ? found.ja : found.en) : d.outcome);
  }
  if (d.anonymity) add("anonymity", d.anonymity);
  if (d.fields && d.fields.length) add("fields", d.fields.map((f) => label("field", f)).join(", "));
  if (d.reason) add("reason", d.reason);
  if (d.export) add("export", t(`audit.export.${d.export}`));
  if (d.period) add("period", d.period);
  if (d.messages !== undefined) add("messages", d.messages);
  return parts.join(" / ");
}

/**
 * One table row.
 * @param {AuditEvent} e
 * @param {Outcome[]} outcomes
 */
export function auditRow(e, outcomes) {
  const row = el("tr");
  row.dataset.testid = "audit-row";
  row.dataset.kind = e.kind;
  const at = el("td", "audit-at");
  const time = el("time", "", auditTime(e.at));
  time.dateTime = e.at;
  at.append(time);
  const who = e.actor_id === null ? t("audit.system") : e.actor_name || `#${e.actor_id}`;
  const kind = el("td", "audit-kind", kindWord(e.kind));
  const conv = el("td", "audit-conv", e.conversation_id === null ? "" : String(e.conversation_id));
  row.append(at, el("td", "audit-actor", who), kind, conv);
  row.append(el("td", "audit-details", detailsText(e.details || {}, outcomes)));
  return row;
}
