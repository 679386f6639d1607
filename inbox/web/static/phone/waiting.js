// @ts-check
// Calls waiting for an outcome (GET /api/calls?open=1), newest first: her calls in that the desk
// answered (Twilio logged them, nobody's until someone records how it went) and the desk's calls
// out that ended without one. Each opens the call screen, whose outcome form records THAT call
// (PATCH /api/calls/{id}). The server never sends a number here, and the page shows none.

import { t, formatTime, formatFullTime } from "../i18n.js";
import { byId, el, morphChildren } from "../lib/dom.js";
import { call } from "../lib/staff_page.js";
import { openWaitingCall } from "./call_screen.js";

const LIMIT = 50;

/** @typedef {import("./call_screen.js").LiveCall} LiveCall */

/** @type {{calls: LiveCall[], loaded: boolean}} */
const waiting = { calls: [], loaded: false };

/** @param {LiveCall} c */
function who(c) {
  if (c.withheld) return t("phone.withheld");
  return c.contact_alias || t("phone.noNumberLogged");
}

/** @param {LiveCall} c */
function row(c) {
  const li = el("li", "waiting-call");
  li.dataset.key = `waiting-${c.id}`;
  li.dataset.testid = `waiting-${c.id}`;
  const top = el("p", "waiting-top");
  const time = el("time", "recent-time", formatTime(c.started_at));
  time.dateTime = c.started_at;
  time.title = formatFullTime(c.started_at);
  const minutes = Math.max(0, Math.round((Number(c.duration_s) || 0) / 60));
  top.append(
    time,
    el("span", `recent-direction is-${c.direction}`, t(`phone.${c.direction}`)),
    el("span", "recent-who", who(c)),
    el("span", "recent-duration", t("phone.minutes", { n: minutes })),
  );
  const open = el("button", "btn btn-small", t("phone.waitingOpen"));
  if (open instanceof HTMLButtonElement) open.type = "button";
  open.dataset.testid = `waiting-open-${c.id}`;
  open.setAttribute("aria-label", t("phone.waitingOpenFor", { who: who(c), at: formatTime(c.started_at) }));
  open.dataset.callId = String(c.id);
  li.append(top, open);
  return li;
}

/** One listener for the list (its rows are morphed in place, so theirs would go stale). */
export function bindWaiting() {
  byId("waiting-list", HTMLElement).addEventListener("click", (e) => {
    const button = e.target instanceof Element ? e.target.closest("button[data-call-id]") : null;
    if (!(button instanceof HTMLButtonElement)) return;
    const found = waiting.calls.find((c) => String(c.id) === button.dataset.callId);
    if (found) openWaitingCall(found);
  });
}

export function renderWaiting() {
  morphChildren(byId("waiting-list", HTMLElement), waiting.calls.map(row));
  byId("waiting-empty", HTMLElement).hidden = !waiting.loaded || waiting.calls.length > 0;
}

let seq = 0;

export async function refreshWaiting() {
  const mine = ++seq;
  const data = await call("GET", `/api/calls?open=1&limit=${LIMIT}`);
  if (mine !== seq || !data) return;
  waiting.calls = Array.isArray(data.calls) ? data.calls : [];
  waiting.loaded = true;
  renderWaiting();
}
