// @ts-check
// Her presence on the phone desk's top bar: phone staff are offered callbacks by the router
// only while "available", so a break is one choice here (GET /api/me tells it; PATCH
// /api/counselors/{her id} sets it: the server lets her change her own presence, nothing else).
// Shown only to phone staff: a supervisor without the role is never routed callbacks.

import { t } from "../i18n.js";
import { api } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { call, hasAnyRole } from "../lib/staff_page.js";

const PRESENCES = ["available", "away", "offline"];

const parts = {
  box: el("span", "desk-box"),
  label: el("label", "desk-presence-label"),
  select: el("select", "desk-presence"),
  said: el("span", "visually-hidden"),
};
/** @type {{id: number | string | null, presence: string | null}} */
const mine = { id: null, presence: null };

/** Build the control for her (phone staff only). @param {import("../lib/staff_page.js").StaffUser} user */
export async function bindPresence(user) {
  if (!hasAnyRole(user, ["phone_staff"])) return;
  mine.id = user.id;
  const { box, label, select, said } = parts;
  select.id = "phone-presence";
  select.setAttribute("data-testid", "presence-select");
  label.htmlFor = select.id;
  for (const p of PRESENCES) {
    const option = el("option");
    option.value = p;
    select.append(option);
  }
  said.setAttribute("role", "status");
  box.append(label, select, said);
  byId("user-box", HTMLElement).insertBefore(box, byId("signout", HTMLElement));
  select.addEventListener("change", onChange);
  await loadPresence();
}

/** Ask the server what her presence is now (after events that may have changed it). */
export async function loadPresence() {
  if (mine.id === null) return;
  try {
    const data = await api("GET", "/api/me");
    mine.presence = data && typeof data.presence === "string" ? data.presence : null;
  } catch {
    return; // the page's own checks end a dead session
  }
  renderPresence();
}

export function renderPresence() {
  const { box, label, select } = parts;
  // hidden until the server said what it is: a choice made before would be overwritten
  box.hidden = mine.id === null || mine.presence === null;
  label.textContent = t("desk.presence");
  for (const option of select.options) option.textContent = t(`desk.presence.${option.value}`);
  if (mine.presence) select.value = mine.presence;
  select.dataset.presence = mine.presence || "";
}

async function onChange() {
  if (mine.id === null) return;
  const wanted = parts.select.value;
  const data = await call("PATCH", `/api/counselors/${encodeURIComponent(String(mine.id))}`, {
    presence: wanted,
  });
  if (data && data.counselor) {
    mine.presence = data.counselor.presence;
    parts.said.textContent = t("desk.presence.saved", { presence: t(`desk.presence.${wanted}`) });
  }
  renderPresence(); // on failure, back to what the server has
}
