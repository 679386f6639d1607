// @ts-check
// The phone desk's settings (GET /api/phone/settings): the program's call outcomes and referral
// places, each with its words in Japanese and English (the list is data: [phone] config), and
// whether Twilio Voice is set up (click-to-call). Also the choice lists the two forms share.

import { getLang } from "../i18n.js";
import { el } from "../lib/dom.js";
import { call } from "../lib/staff_page.js";

/**
 * @typedef {object} Choice an outcome or a referral place
 * @property {string} id
 * @property {string} ja
 * @property {string} en
 * @property {boolean} [reached]
 */

export const settings = {
  /** @type {Choice[]} */
  outcomes: [],
  /** @type {Choice[]} */
  referrals: [],
  voice: false,
  /** The desk phones click-to-call may ring first ([voice] staff_phones; numbers masked).
   * @type {{id: number, label: string, number: string}[]} */
  deskPhones: [],
};

export async function loadSettings() {
  const data = await call("GET", "/api/phone/settings");
  if (!data) return false;
  settings.outcomes = Array.isArray(data.outcomes) ? data.outcomes : [];
  settings.referrals = Array.isArray(data.referrals) ? data.referrals : [];
  settings.voice = data.voice === true;
  settings.deskPhones = Array.isArray(data.desk_phones) ? data.desk_phones : [];
  return true;
}

/**
 * The words for an id in the page's language; an id no longer in the list shows as itself.
 * @param {Choice[]} list
 * @param {string | null | undefined} id
 */
export function wordOf(list, id) {
  const found = list.find((c) => c.id === id);
  if (!found) return String(id ?? "");
  return (getLang() === "en" ? found.en : found.ja) || found.id;
}

/**
 * Fill a fieldset (after its legend) with one radio or checkbox per choice, keeping what was
 * chosen across a redraw (the language changed).
 * @param {HTMLFieldSetElement} fieldset
 * @param {Choice[]} list
 * @param {"radio" | "checkbox"} type
 * @param {string} prefix ids and test ids: `${prefix}-${choice.id}`
 */
export function renderChoices(fieldset, list, type, prefix) {
  const chosen = chosenOf(fieldset);
  for (const old of fieldset.querySelectorAll(".phone-choice")) old.remove();
  for (const choice of list) {
    const wrap = el("label", "phone-choice");
    const box = el("input");
    box.type = type;
    box.name = prefix;
    box.value = choice.id;
    box.id = `${prefix}-${choice.id}`;
    box.dataset.testid = `${prefix}-${choice.id}`;
    box.checked = chosen.includes(choice.id);
    wrap.append(box, el("span", "", wordOf(list, choice.id)));
    fieldset.append(wrap);
  }
}

/** The values checked in a fieldset. @param {HTMLFieldSetElement} fieldset @returns {string[]} */
export function chosenOf(fieldset) {
  return [...fieldset.querySelectorAll("input")]
    .filter((b) => b instanceof HTMLInputElement && b.checked)
    .map((b) => /** @type {HTMLInputElement} */ (b).value);
}

/** Uncheck every choice of a fieldset. @param {HTMLFieldSetElement} fieldset */
export function clearChoices(fieldset) {
  for (const b of fieldset.querySelectorAll("input")) if (b instanceof HTMLInputElement) b.checked = false;
}
