// @ts-check
// The search view: conversations by words (Japanese without spaces too), alias, tag, status,
// channel and the days they began; newest first, a page at a time. A result opens the
// conversation, a closed one too (read-only). Counselors find their own; supervisors all.

import { t, formatTime, formatFullTime, label } from "../i18n.js";
import { byId, el } from "../lib/dom.js";
import { state } from "./state.js";
import { call } from "./session.js";
import { outcomeLabel, loadOutcomes } from "./closing.js";
import { channelTag } from "./channel.js"; // --- line: the channel with its mark

/** @typedef {import("./types.js").Conversation & import("./types.js").ContextFields} Hit */

function searchEls() {
  return {
    panel: byId("search-panel", HTMLDetailsElement),
    form: byId("search-form", HTMLFormElement),
    q: byId("search-q", HTMLInputElement),
    alias: byId("search-alias", HTMLInputElement),
    tag: byId("search-tag", HTMLInputElement),
    status: byId("search-status", HTMLSelectElement),
    channel: byId("search-channel", HTMLSelectElement),
    from: byId("search-from", HTMLInputElement),
    to: byId("search-to", HTMLInputElement),
    line: byId("search-line", HTMLElement),
    results: byId("search-results", HTMLUListElement),
    more: byId("search-more", HTMLButtonElement),
  };
}

/** @type {ReturnType<typeof searchEls> | null} */
let s = null;
/** @type {Hit[]} */
let hits = [];
/** @type {string | null} the query string of the results shown */
let shown = null;
/** @type {number | null} */
let nextBefore = null;
/** @type {{scope: string, recent: number} | null} */
let scope = null;
let seq = 0;
/** @type {(id: number) => void} */
let open = () => {};

/** The form as a query string, or null when nothing is asked. */
function queryString() {
  if (!s) return null;
  const params = new URLSearchParams();
  for (const [name, input] of /** @type {[string, HTMLInputElement | HTMLSelectElement][]} */ ([
    ["q", s.q],
    ["alias", s.alias],
    ["tag", s.tag],
    ["status", s.status],
    ["channel", s.channel],
    ["from", s.from],
    ["to", s.to],
  ])) {
    const v = input.value.trim();
    if (v) params.set(name, v);
  }
  return params.toString() ? params.toString() : null;
}

/** @param {boolean} more the next page of the results shown */
async function runSearch(more) {
  if (!s) return;
  const q = more ? shown : queryString();
  if (q === null) {
    s.line.textContent = t("search.needSomething");
    return;
  }
  const mine = ++seq;
  s.line.textContent = t("search.searching");
  const page = more && nextBefore !== null ? `&before=${encodeURIComponent(nextBefore)}` : "";
  const [data] = await Promise.all([call("GET", `/api/search?${q}&limit=20${page}`), loadOutcomes()]);
  if (mine !== seq || !s) return;
  if (!data) {
    s.line.textContent = "";
    return;
  }
  const found = Array.isArray(data.results) ? data.results : [];
  hits = more ? hits.concat(found) : found;
  shown = q;
  nextBefore = data.next_before ?? null;
  scope = { scope: String(data.scope), recent: Number(data.recent_messages) };
  renderSearch();
}

/** @param {Hit} c */
function hitItem(c) {
  const li = el("li", "search-row-item");
  const btn = el("button", "search-hit");
  btn.type = "button";
  btn.dataset.conversationId = String(c.id);
  btn.dataset.status = c.status;
  btn.setAttribute("data-testid", "search-hit");
  if (String(c.id) === String(state.openId)) btn.setAttribute("aria-current", "true");
  const top = el("span", "sh-top");
  top.append(el("span", "sh-alias", c.contact_alias || `#${c.id}`));
  const when = el("span", "sh-date", formatTime(c.created_at));
  when.title = formatFullTime(c.created_at);
  top.append(when);
  const mid = el("span", "sh-mid");
  mid.append(
    channelTag(c.channel, "sh-channel"),
    el("span", "qi-sep", "・"),
    el("span", `sh-status status-${c.status}`, label("status", c.status)),
  );
  if (c.outcome) mid.append(el("span", "qi-sep", "・"), el("span", "sh-outcome", outcomeLabel(c.outcome)));
  if (c.handled_by_name) mid.append(el("span", "qi-sep", "・"), el("span", "sh-by", c.handled_by_name));
  btn.append(top, mid);
  if (c.snippet) btn.append(el("span", "sh-snippet", c.snippet));
  const tags = Array.isArray(c.tags) ? c.tags : [];
  if (tags.length) {
    const row = el("span", "qi-tags");
    for (const tag of tags) row.append(el("span", "tag", tag));
    btn.append(row);
  }
  li.append(btn);
  return li;
}

export function renderSearch() {
  if (!s || shown === null) return;
  s.results.replaceChildren(...hits.map(hitItem));
  s.more.hidden = nextBefore === null;
  let text = hits.length ? t("search.found", { n: hits.length + (nextBefore !== null ? "+" : "") }) : t("search.none");
  if (scope && scope.scope === "recent") text += ` ${t("search.recentOnly", { n: scope.recent })}`;
  s.line.textContent = text;
}

/** Clear the form and the results (the session ended). */
export function resetSearch() {
  seq++;
  hits = [];
  shown = null;
  nextBefore = null;
  scope = null;
  if (s) {
    s.form.reset();
    s.results.replaceChildren();
    s.line.textContent = "";
    s.more.hidden = true;
    s.panel.open = false;
  }
}

/** @param {(id: number) => void} onOpen opens a result's conversation */
export function bindSearch(onOpen) {
  s = searchEls();
  const e = s;
  open = onOpen;
  e.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    runSearch(false);
  });
  e.form.addEventListener("reset", () => {
    seq++;
    hits = [];
    shown = null;
    nextBefore = null;
    e.results.replaceChildren();
    e.line.textContent = "";
    e.more.hidden = true;
  });
  e.more.addEventListener("click", () => runSearch(true));
  e.results.addEventListener("click", (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest(".search-hit") : null;
    if (btn instanceof HTMLElement) open(Number(btn.dataset.conversationId));
  });
}
