// @ts-check
// The callback list (GET /api/callbacks), in the server's order (routing.callbacks: what may be
// called now first): her alias, whether she may be called now or from when (her window, Tokyo
// time), the tries so far, when it is due, and a badge when she asked for discretion. Choosing
// one opens the call screen (call_screen.js). Redrawn in place (morphChildren), so a refresh
// does not take her focus or her place in the list.

import { t, formatTime, formatFullTime } from "../i18n.js";
import { byId, el, morphChildren } from "../lib/dom.js";
import { call } from "../lib/staff_page.js";

/**
 * @typedef {object} Callback one row of GET /api/callbacks
 * @property {number} conversation
 * @property {string} contact_alias
 * @property {string} status
 * @property {unknown} assignee
 * @property {number} tries
 * @property {string | null} due_at
 * @property {Record<string, string[]> | null} window
 * @property {boolean} callable_now
 * @property {string | null} next_allowed
 * @property {boolean} discretion
 * @property {string | null} waiting_since
 */

export const list = {
  /** @type {Callback[]} */
  items: [],
  /** @type {number | null} the one open on the call screen */
  selected: null,
  loaded: false,
};

/** @type {(item: Callback) => void} */
let onChoose = () => {};

/** What to do when she chooses one. @param {(item: Callback) => void} fn */
export function onCallbackChosen(fn) {
  onChoose = fn;
}

const DAY_ORDER = ["everyday", "weekdays", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/**
 * Her window in words: "平日 12:00-13:00", "金曜日 なし"; null: any time the desk is open.
 * @param {Record<string, string[]> | null | undefined} window
 */
export function windowWords(window) {
  if (!window || typeof window !== "object") return t("phone.window.any");
  const parts = [];
  for (const day of DAY_ORDER) {
    const spans = window[day];
    if (!Array.isArray(spans)) continue;
    const name = day === "everyday" || day === "weekdays" ? t(`phone.window.${day}`) : t(`profile.day.${day}`);
    parts.push(`${name} ${spans.length ? spans.join(", ") : t("phone.window.none")}`);
  }
  return parts.length ? parts.join(" / ") : t("phone.window.any");
}

/** "Can call now" or "from 12:00". @param {Callback} item */
export function whenWords(item) {
  if (item.callable_now) return t("phone.callableNow");
  if (item.next_allowed) return t("phone.nextAllowed", { at: formatTime(item.next_allowed) });
  return t("phone.notInWindow");
}

/** @param {Callback} item */
function row(item) {
  const li = el("li", "callback-item");
  li.dataset.key = `cb-${item.conversation}`;
  li.dataset.conversationId = String(item.conversation);
  li.dataset.callable = String(item.callable_now === true);
  const open = el("button", "callback-open");
  open.type = "button";
  open.dataset.testid = `callback-${item.conversation}`;
  if (list.selected === item.conversation) open.setAttribute("aria-current", "true");
  const top = el("span", "callback-top");
  top.append(el("span", "callback-alias", item.contact_alias));
  if (item.discretion) {
    const badge = el("span", "badge callback-discretion", t("phone.discretionBadge"));
    badge.dataset.testid = "callback-discretion";
    top.append(badge);
  }
  const when = el("span", `callback-when ${item.callable_now ? "is-now" : "is-later"}`, whenWords(item));
  if (item.next_allowed) when.title = formatFullTime(item.next_allowed);
  const meta = [t("phone.tries", { n: Number(item.tries) || 0 })];
  if (item.due_at) meta.push(t("phone.due", { at: formatTime(item.due_at) }));
  if (item.assignee && typeof item.assignee === "object" && "name" in item.assignee) {
    meta.push(t("phone.assignee", { name: String(item.assignee.name) }));
  }
  open.append(top, when, el("span", "callback-meta", meta.join("・")));
  li.append(open);
  return li;
}

export function renderCallbacks() {
  const ul = byId("callback-list", HTMLElement);
  morphChildren(ul, list.items.map(row));
  byId("callbacks-empty", HTMLElement).hidden = !list.loaded || list.items.length > 0;
}

/** One listener for the list (rows are morphed in place, so theirs would go stale). */
export function bindCallbacks() {
  byId("callback-list", HTMLElement).addEventListener("click", (e) => {
    const button = e.target instanceof Element ? e.target.closest(".callback-open") : null;
    const li = button?.closest(".callback-item");
    if (!(li instanceof HTMLElement)) return;
    const item = list.items.find((c) => String(c.conversation) === li.dataset.conversationId);
    if (item) onChoose(item);
  });
}

let seq = 0;

export async function refreshCallbacks() {
  const mine = ++seq;
  const data = await call("GET", "/api/callbacks");
  if (mine !== seq || !data) return;
  list.items = Array.isArray(data) ? data : Array.isArray(data.callbacks) ? data.callbacks : [];
  list.loaded = true;
  renderCallbacks();
}
