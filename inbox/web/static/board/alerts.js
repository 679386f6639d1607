// @ts-check
// The alert feed, newest first: urgent triage, response targets near or missed, replies that
// could not be sent, urgent conversations given to the on-call supervisor. Each is acknowledged
// by a supervisor (POST /api/alerts/{id}/ack: who and when, an event); acknowledged ones fold
// away into a closed list that says who acknowledged them and when.
//
// The open list is a live region (polite), drawn by key: an alert already shown stays as it is,
// so a screen reader announces only the new ones, not the whole list on every frame.

import { t, formatTime, formatFullTime } from "../i18n.js";
import { el, byId, morphChildren } from "../lib/dom.js";
import { call } from "../lib/staff_page.js";
import { tagText } from "../console/labels.js";
import { addRenderer, refresh } from "./state.js";

/** @typedef {import("./state.js").Board} Board */
/** @typedef {import("./state.js").BoardAlert} BoardAlert */

/** The aliases of the conversations on the board, by id (an alert names hers when it can). */
/** @type {Map<number, string>} */
let aliases = new Map();

/** @param {BoardAlert} a */
function alertText(a) {
  const id = a.conversation_id;
  const alias = id === null ? undefined : aliases.get(id);
  const conv =
    id === null
      ? ""
      : alias
        ? t("board.alert.conversationNamed", { alias, id })
        : t("board.alert.conversation", { id });
  switch (a.kind) {
    case "supervisors_alerted":
      return t("board.alert.urgent", {
        category: a.reason && !a.reason.startsWith("rules:") ? tagText(a.reason) : t("urgency.rules"),
        conv,
      });
    case "deadline_warning":
      return t("board.alert.warning", { conv });
    case "deadline_breached":
      return t("board.alert.breach", { conv });
    case "reply_failed":
      return t("board.alert.failed", { conv });
    case "on_call_assigned":
      return t("board.alert.onCall", { conv, name: a.user_name || "" });
    default:
      return t("board.alert.other", { conv });
  }
}

/** @param {BoardAlert} a */
async function acknowledge(a) {
  const done = await call("POST", `/api/alerts/${a.event_id}/ack`);
  if (done) await refresh();
}

/**
 * Where focus goes when the alert whose button had it is gone (acknowledged): the next alert's
 * button, else the one before, else the feed's heading; never <body>.
 * @param {string[]} after the event ids below it, then those above it (nearest first)
 */
function focusAfterAck(after) {
  for (const id of after) {
    const button = document.querySelector(`[data-focus-key="ack-${CSS.escape(id)}"]`);
    if (button instanceof HTMLButtonElement && button.isConnected) {
      button.focus();
      return;
    }
  }
  const heading = byId("board-alerts-heading", HTMLElement);
  heading.tabIndex = -1;
  heading.focus();
}

/** The event ids of the open alerts around `item`: those below it, then those above (nearest first). @param {HTMLElement} item */
function neighbours(item) {
  /** @type {string[]} */
  const ids = [];
  for (let n = item.nextElementSibling; n; n = n.nextElementSibling) if (n instanceof HTMLElement && n.dataset.eventId) ids.push(n.dataset.eventId);
  for (let n = item.previousElementSibling; n; n = n.previousElementSibling) if (n instanceof HTMLElement && n.dataset.eventId) ids.push(n.dataset.eventId);
  return ids;
}

/** @param {BoardAlert} a */
function openItem(a) {
  const item = el("li", `board-alert board-alert-${a.kind}`);
  item.dataset.eventId = String(a.event_id);
  const text = el("span", "board-alert-text", alertText(a));
  const at = el("time", "board-alert-time", formatTime(a.at));
  at.dateTime = a.at;
  at.title = formatFullTime(a.at);
  const button = el("button", "btn btn-small", t("board.alert.ack"));
  button.type = "button";
  button.dataset.focusKey = `ack-${a.event_id}`;
  button.dataset.testid = "alert-ack";
  button.setAttribute("aria-label", t("board.alert.ackAria", { text: alertText(a) }));
  button.addEventListener("click", async () => {
    button.disabled = true;
    const around = neighbours(item);
    try {
      await acknowledge(a);
    } finally {
      button.disabled = false;
    }
    const active = document.activeElement;
    if (!item.isConnected && (active === null || active === document.body || active === button)) focusAfterAck(around);
  });
  item.append(at, text, button);
  return item;
}

/** @param {BoardAlert} a */
function doneItem(a) {
  const item = el("li", "board-alert board-alert-done");
  item.dataset.eventId = String(a.event_id);
  item.dataset.key = `done-${a.event_id}`;
  const ack = /** @type {import("./state.js").Acknowledgement} */ (a.acknowledged);
  const at = el("time", "board-alert-time", formatTime(a.at));
  at.dateTime = a.at;
  item.append(
    at,
    el("span", "board-alert-text", alertText(a)),
    el("span", "board-alert-ack", t("board.alert.ackedBy", { name: ack.by_name || `#${ack.by_id}`, at: formatTime(ack.at) })),
  );
  return item;
}

/** The language the open list was drawn in: a switch re-words every item, silently. */
let drawnIn = "";
/** @type {ReturnType<typeof setTimeout> | undefined} */
let liveAgain;

/** Re-word an open alert in place (the language changed). @param {HTMLElement} item @param {BoardAlert} a */
function reword(item, a) {
  const fresh = openItem(a);
  for (const cls of [".board-alert-time", ".board-alert-text"]) {
    const old = item.querySelector(cls);
    const now = fresh.querySelector(cls);
    if (old && now && old.textContent !== now.textContent) old.textContent = now.textContent;
  }
  const button = item.querySelector("button");
  const now = fresh.querySelector("button");
  if (button && now) {
    if (button.textContent !== now.textContent) button.textContent = now.textContent;
    button.setAttribute("aria-label", now.getAttribute("aria-label") || "");
  }
}

/** @param {Board} board */
function renderAlerts(board) {
  aliases = new Map([...board.waiting, ...board.assigned].map((c) => [c.id, c.contact_alias]));
  const open = board.alerts.filter((a) => !a.acknowledged);
  const done = board.alerts.filter((a) => a.acknowledged);
  const list = byId("board-alert-list", HTMLUListElement);
  const lang = document.documentElement.lang;
  const relabel = drawnIn !== "" && lang !== drawnIn;
  drawnIn = lang;
  const keep = new Map();
  for (const item of list.children) {
    if (item instanceof HTMLElement) keep.set(item.dataset.eventId, item);
  }
  if (relabel) {
    // a language switch is no news: the region is quiet while its words change
    list.setAttribute("aria-live", "off");
    clearTimeout(liveAgain);
    liveAgain = setTimeout(() => list.setAttribute("aria-live", "polite"), 500);
    for (const a of open) {
      const item = keep.get(String(a.event_id));
      if (item) reword(item, a);
    }
  }
  const wanted = new Set(open.map((a) => String(a.event_id)));
  for (const [id, item] of keep) if (!wanted.has(id)) item.remove();
  // newest first: each alert is placed before the one after it, new ones created
  /** @type {Element | null} */
  let next = null;
  for (let i = open.length - 1; i >= 0; i -= 1) {
    const a = open[i];
    const item = keep.get(String(a.event_id)) || openItem(a);
    if (item.nextElementSibling !== next || item.parentElement !== list) list.insertBefore(item, next);
    next = item;
  }
  byId("board-alerts-empty", HTMLParagraphElement).hidden = open.length > 0;
  const folded = byId("board-alerts-done", HTMLDetailsElement);
  folded.hidden = done.length === 0;
  byId("board-alerts-done-summary", HTMLElement).textContent = t("board.alert.doneSummary", { n: done.length });
  morphChildren(byId("board-alerts-done-list", HTMLUListElement), done.map(doneItem));
}

export function startAlerts() {
  addRenderer(renderAlerts);
}
