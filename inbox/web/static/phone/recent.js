// @ts-check
// Her recent calls (GET /api/calls?mine=1), newest first: when, in or out, who (her alias, or
// "withheld"), the outcome's words, how long, the referrals' words and a follow-up date. The
// server never sends a number here, and the page shows none.

import { t, getLang, formatTime, formatFullTime } from "../i18n.js";
import { byId, el, morphChildren } from "../lib/dom.js";
import { call } from "../lib/staff_page.js";
import { settings, wordOf } from "./settings.js";
import { dayWords } from "./tokyo.js";

const LIMIT = 50;

/**
 * @typedef {object} Call one call of GET /api/calls
 * @property {number} id
 * @property {"inbound" | "outbound"} direction
 * @property {string} started_at
 * @property {number} duration_s
 * @property {boolean} withheld
 * @property {string} outcome
 * @property {string} note
 * @property {string[]} referrals
 * @property {string | null} follow_up
 * @property {number | null} conversation
 * @property {string | null} contact_alias
 */

/** @type {{calls: Call[], loaded: boolean}} */
const recent = { calls: [], loaded: false };

/** Minutes, as the forms take them ("0分" for a call that did not connect). @param {number} s */
function minutes(s) {
  const n = Math.max(0, Math.round((Number(s) || 0) / 60));
  return t("phone.minutes", { n });
}

/** @param {Call} c */
function who(c) {
  if (c.withheld) return t("phone.withheld");
  return c.contact_alias || t("phone.noNumberLogged");
}

/** @param {Call} c */
function row(c) {
  const li = el("li", "recent-call");
  li.dataset.key = `call-${c.id}`;
  li.dataset.callId = String(c.id);
  const top = el("p", "recent-top");
  const time = el("time", "recent-time", formatTime(c.started_at));
  time.dateTime = c.started_at;
  time.title = formatFullTime(c.started_at);
  top.append(
    time,
    el("span", `recent-direction is-${c.direction}`, t(`phone.${c.direction}`)),
    el("span", "recent-who", who(c)),
  );
  const mid = el("p", "recent-mid");
  mid.append(el("span", "recent-outcome", wordOf(settings.outcomes, c.outcome)), el("span", "recent-duration", minutes(c.duration_s)));
  li.append(top, mid);
  const refs = Array.isArray(c.referrals) ? c.referrals : [];
  if (refs.length || c.follow_up) {
    const more = el("p", "recent-more");
    if (refs.length) {
      const words = refs.map((id) => wordOf(settings.referrals, id)).join(t("phone.listSep"));
      more.append(el("span", "recent-referrals", t("phone.referredTo", { places: words })));
    }
    if (c.follow_up) more.append(el("span", "recent-follow-up", t("phone.followUpOn", { day: dayWords(c.follow_up, getLang()) })));
    li.append(more);
  }
  return li;
}

export function renderRecent() {
  morphChildren(byId("recent-list", HTMLElement), recent.calls.map(row));
  byId("recent-empty", HTMLElement).hidden = !recent.loaded || recent.calls.length > 0;
}

let seq = 0;

export async function refreshRecent() {
  const mine = ++seq;
  const data = await call("GET", `/api/calls?mine=1&limit=${LIMIT}`);
  if (mine !== seq || !data) return;
  recent.calls = Array.isArray(data) ? data : Array.isArray(data.calls) ? data.calls : [];
  recent.loaded = true;
  renderRecent();
}
