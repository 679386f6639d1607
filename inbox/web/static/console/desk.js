// @ts-check
// --- desk: her presence and her load against capacity in the top bar. /api/me tells both (for a
// counselor); presence is changed with PATCH /api/counselors/{her id}, which the server allows
// her for herself only. Refreshed after every frame of live events (coalesced).

import { t } from "../i18n.js";
import { api } from "../lib/api.js";
import { el, coalesced } from "../lib/dom.js";
import { state, els } from "./state.js";
import { call } from "./session.js";

const PRESENCES = ["available", "away", "offline"];

/**
 * @typedef {object} Load
 * @property {number} open
 * @property {number} capacity
 * @property {Record<string, number>} by_channel
 */

/** @type {{presence: string | null, load: Load | null}} */
const desk = { presence: null, load: null };

/** The top bar's controls, made once at bind time. */
const parts = {
  box: el("span", "desk-box"),
  presenceLabel: el("label", "desk-presence-label"),
  presence: el("select", "desk-presence"),
  load: el("span", "desk-load"),
  loadShort: el("span", "desk-load-short"),
  loadLong: el("span", "visually-hidden"),
  said: el("span", "visually-hidden"),
};

function build() {
  const { box, presenceLabel, presence, load, loadShort, loadLong, said } = parts;
  presence.id = "desk-presence";
  presence.setAttribute("data-testid", "presence-select");
  presenceLabel.htmlFor = presence.id;
  for (const p of PRESENCES) {
    const option = el("option");
    option.value = p;
    presence.append(option);
  }
  load.setAttribute("data-testid", "desk-load");
  loadShort.setAttribute("aria-hidden", "true");
  load.append(loadShort, loadLong);
  said.setAttribute("role", "status");
  box.append(presenceLabel, presence, load, said);
  box.hidden = true;
  els.userBox.insertBefore(box, els.signout);
  presence.addEventListener("change", onPresenceChange);
}

export function renderDesk() {
  const { box, presenceLabel, presence, loadShort, loadLong } = parts;
  presenceLabel.textContent = t("desk.presence");
  for (const option of presence.options) option.textContent = t(`desk.presence.${option.value}`);
  box.hidden = desk.load === null;
  if (desk.presence) presence.value = desk.presence;
  presence.dataset.presence = desk.presence || "";
  const load = desk.load;
  if (!load) return;
  const words = { open: load.open, capacity: load.capacity };
  loadShort.textContent = t("desk.load", words);
  loadLong.textContent = t("desk.loadLabel", words);
  parts.load.dataset.full = String(load.open >= load.capacity);
}

/** Ask who she is again: presence and load. */
export async function loadDesk() {
  if (!state.me) return;
  try {
    const data = await api("GET", "/api/me");
    if (!data || !state.me) return;
    desk.presence = data.presence ?? null;
    desk.load = data.load ?? null;
  } catch {
    return; // the live socket's own check ends a dead session
  }
  renderDesk();
}

/** Refresh soon, once for a burst of events. */
export const refreshDesk = coalesced(loadDesk, 300, 2000);

// The kinds of events after which her load or presence may differ (the feed does not say whose).
const DESK_KINDS = new Set([
  "conversation_assigned",
  "conversation_closed",
  "conversation_requeued",
  "offer_lapsed",
  "deadline_breached",
  "counselor_updated",
]);

/** Whether a frame's events may change what the top bar shows. @param {{kind?: string}[]} events */
export function concernsDesk(events) {
  return events.some((e) => DESK_KINDS.has(String(e.kind)));
}

async function onPresenceChange() {
  if (!state.me) return;
  const wanted = parts.presence.value;
  const path = `/api/counselors/${encodeURIComponent(String(state.me.id))}`;
  const data = await call("PATCH", path, { presence: wanted });
  if (data && data.counselor) {
    desk.presence = data.counselor.presence;
    parts.said.textContent = t("desk.presence.saved", { presence: t(`desk.presence.${wanted}`) });
  }
  renderDesk(); // on failure, back to what the server has
}

/** Forget her desk (the session ended). */
export function resetDesk() {
  desk.presence = null;
  desk.load = null;
  parts.said.textContent = "";
  renderDesk();
}

export function bindDesk() {
  build();
  renderDesk();
}
