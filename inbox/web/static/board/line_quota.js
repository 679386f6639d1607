// @ts-check
// LINE's monthly message quota (issue 16): this month's pushes against the account's limit, as
// the board carries it (`line_quota`, read by the server at most every 5 minutes; null when LINE
// is off, and then the tile stays hidden). Each state is said in words, never by colour alone:
// running low, the limit reached, no limit, or LINE could not be asked.

import { t, getLang, formatTime, formatFullTime } from "../i18n.js";
import { el, byId, morphChildren } from "../lib/dom.js";
import { addRenderer } from "./state.js";

/** @typedef {import("./state.js").Board} Board */
/** @typedef {import("./state.js").LineQuota} LineQuota */
/** @typedef {import("./state.js").LineFriends} LineFriends */

/** @param {number} n */
function num(n) {
  return n.toLocaleString(getLang() === "ja" ? "ja-JP" : "en-GB");
}

/** "ok" | "warn" | "exhausted" | "unlimited" | "unavailable" @param {LineQuota} q */
export function quotaState(q) {
  if (q.state !== "ok" || q.used === null) return "unavailable";
  if (q.limit === null) return "unlimited";
  if (q.exhausted) return "exhausted";
  return q.warn ? "warn" : "ok";
}

/** @param {LineQuota} q @param {string} state */
function figureText(q, state) {
  if (state === "unavailable" || q.used === null) return t("board.lineQuota.unavailable");
  if (q.limit === null) return t("board.lineQuota.usedOnly", { used: num(q.used) });
  return t("board.lineQuota.figure", { used: num(q.used), limit: num(q.limit), percent: q.percent ?? 0 });
}

/** @param {LineQuota} q @param {string} state */
function noteText(q, state) {
  switch (state) {
    case "unavailable":
      return t("board.lineQuota.unavailableHint");
    case "unlimited":
      return t("board.lineQuota.unlimited");
    case "exhausted":
      return t("board.lineQuota.exhausted");
    case "warn":
      return t("board.lineQuota.warn", { remaining: num(q.remaining ?? 0), warnPercent: q.warn_percent });
    default:
      return t("board.lineQuota.remaining", { remaining: num(q.remaining ?? 0) });
  }
}

/** Friends added and lost today and this month (follows and unfollows), or null. @param {LineFriends | null | undefined} f */
function friendsLine(f) {
  if (!f) return null;
  const line = el(
    "p",
    "board-line-friends",
    t("board.lineFriends.figure", {
      todayAdded: num(f.today.added),
      todayLost: num(f.today.lost),
      monthAdded: num(f.month.added),
      monthLost: num(f.month.lost),
    }),
  );
  line.dataset.testid = "board-line-friends";
  line.title = t("board.lineFriends.about", { at: formatFullTime(f.read_at) });
  return line;
}

/** @param {Board} board */
function renderLineQuota(board) {
  const section = byId("board-line-quota", HTMLElement);
  const q = board.line_quota;
  section.hidden = !q;
  if (!q) return;
  const state = quotaState(q);
  section.dataset.state = state;
  const alarm = state === "warn" || state === "exhausted" || state === "unavailable";
  const parts = [];
  if (alarm) {
    // a word before the figure: the state is read, not only seen in a colour
    parts.push(el("p", "board-quota-badge", t(state === "unavailable" ? "board.lineQuota.errorBadge" : "board.lineQuota.warnBadge")));
  }
  const figure = el("p", "board-quota-figure", figureText(q, state));
  figure.dataset.testid = "board-line-quota-figure";
  const note = el("p", "board-quota-note", noteText(q, state));
  note.dataset.testid = "board-line-quota-note";
  parts.push(figure, note);
  const friends = friendsLine(board.line_friends);
  if (friends) parts.push(friends);
  if (state === "exhausted") parts.push(el("p", "board-quota-hint", t("board.lineQuota.exhaustedHint")));
  parts.push(el("p", "board-quota-hint", t("board.lineQuota.about")));
  const read = el("p", "board-quota-read", t("board.lineQuota.readAt", { at: formatTime(q.read_at) }));
  read.title = formatFullTime(q.read_at);
  parts.push(read);
  morphChildren(byId("board-line-quota-body", HTMLDivElement), parts);
}

export function startLineQuota() {
  addRenderer(renderLineQuota);
}
