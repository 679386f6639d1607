// @ts-check
// The conversation view's "Referrals / 連携" panel: the referrals recorded on the open
// conversation (its calls' too), and a form to record one (lib/referrals.js, shared with the
// phone desk). Offered to whoever may add notes to it (its counselor, a supervisor, phone staff
// on a phone conversation); the server decides all the same.

import { byId } from "../lib/dom.js";
import { referralPanel } from "../lib/referrals.js";
import { state, isMine } from "./state.js";
import { endSession } from "./session.js";

/** @type {ReturnType<typeof referralPanel> | null} */
let panel = null;

function mayRecord() {
  const c = state.conv;
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  if (!c) return false;
  if (roles.includes("supervisor") || isMine(c)) return true;
  return roles.includes("phone_staff") && c.channel === "phone";
}

export function bindReferrals() {
  panel = referralPanel({
    prefix: "referrals",
    path: () => (state.openId === null ? null : `/api/conversations/${encodeURIComponent(state.openId)}/referrals`),
    mayRecord,
    mine: (id) => !!state.me && String(state.me.id) === String(id),
    onUnauthorized: () => endSession("login.expired"),
  });
  byId("referrals-slot", HTMLElement).replaceChildren(panel.root);
}

/** A conversation was opened: its referrals. */
export function loadReferrals() {
  panel?.reset();
  panel?.load();
}

/** The language changed. */
export function renderReferrals() {
  panel?.render();
}

/** The conversation's record changed (she claimed it): whether the form is hers. */
export function renderReferralAccess() {
  panel?.access();
}

export function resetReferrals() {
  panel?.reset();
}

/**
 * A frame of the live feed: another staff member's referral on the open conversation (or one
 * deleted) is fetched again.
 * @param {any} msg
 */
export function heardReferrals(msg) {
  if (!msg || msg.type !== "events" || !Array.isArray(msg.events) || state.openId === null) return;
  const open = String(state.openId);
  const about = (/** @type {any} */ e) => String(e.kind).startsWith("referral_") && String(e.conversation_id) === open;
  if (msg.events.some(about)) panel?.load();
}
