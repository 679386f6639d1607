// @ts-check
// Logging a call by hand (an ordinary phone line): incoming or outgoing, when (now by default,
// Tokyo time), minutes, her number or "withheld", outcome, note, referrals and a follow-up date,
// posted to /api/calls with no conversation (the server finds or makes hers). The number is
// only sent: it is cleared from the form once logged, and never shown in the lists.

import { t } from "../i18n.js";
import { byId } from "../lib/dom.js";
import { clearFormError, showFieldError } from "../lib/forms.js";
import { answerWords, readCallFields, renderCallFields, resetCallFields, sendCall } from "./forms.js";
import { tokyoIso, tokyoLocal } from "./tokyo.js";
import { loadDirectory, referOnCall, referralFields } from "../lib/referrals.js";

const MAX_NUMBER_CHARS = 32;

const direction = byId("log-direction", HTMLFieldSetElement);
const when = byId("log-when", HTMLInputElement);
const number = byId("log-number", HTMLInputElement);
const withheld = byId("log-withheld", HTMLInputElement);

// casework: a referral to a partner agency, beside the quick referral labels above
const agencyReferral = referralFields("call-referral");
byId("log-agency-referral", HTMLFieldSetElement).append(...agencyReferral.blocks);

/** @type {import("./forms.js").CallFields} */
const fields = {
  form: byId("log-form", HTMLFormElement),
  outcomes: byId("log-outcomes", HTMLFieldSetElement),
  duration: byId("log-duration", HTMLInputElement),
  note: byId("log-note", HTMLTextAreaElement),
  referrals: byId("log-referrals", HTMLFieldSetElement),
  topics: byId("log-topics", HTMLFieldSetElement), // --- casework
  age: byId("log-age", HTMLSelectElement),
  followUp: byId("log-follow-up", HTMLInputElement),
  error: byId("log-error", HTMLElement),
  submit: byId("log-submit", HTMLButtonElement),
  prefix: "log",
  more: { direction, started_at: when, number, withheld },
};

export function renderLogForm() {
  renderCallFields(fields);
  agencyReferral.render();
}

/** The direction chosen. */
function directionOf() {
  const checked = direction.querySelector("input:checked");
  return checked instanceof HTMLInputElement ? checked.value : "inbound";
}

function syncWithheld() {
  number.disabled = withheld.checked;
  if (withheld.checked) number.value = "";
  // a withheld call has no contact to keep her age group on
  byId("log-age-field", HTMLElement).hidden = withheld.checked;
  byId("log-age", HTMLSelectElement).disabled = withheld.checked;
}

function resetLog() {
  resetCallFields(fields);
  number.value = "";
  withheld.checked = false;
  syncWithheld();
  when.value = tokyoLocal(new Date());
  agencyReferral.reset();
}

/**
 * Wire the form; `onLogged` gets the server's answer in words.
 * @param {(words: string) => void} onLogged
 */
export function bindLogForm(onLogged) {
  when.value = tokyoLocal(new Date());
  loadDirectory().then(() => agencyReferral.render());
  number.maxLength = MAX_NUMBER_CHARS;
  withheld.addEventListener("change", syncWithheld);
  fields.form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(fields.error, fields.form);
    const startedAt = tokyoIso(when.value);
    const typed = number.value.normalize("NFKC").trim();
    if (!startedAt) return showFieldError(fields.error, t("phone.needWhen"), when);
    if (!withheld.checked && !typed) return showFieldError(fields.error, t("phone.needNumber"), number);
    const shared = readCallFields(fields);
    if (!shared) return;
    const referral = agencyReferral.chosen() ? agencyReferral.read(fields.error) : null;
    if (agencyReferral.chosen() && !referral) return;
    const answer = await sendCall(fields, {
      direction: directionOf(),
      started_at: startedAt,
      number: withheld.checked ? null : typed,
      withheld: withheld.checked,
      conversation: null,
      ...shared,
    });
    if (!answer) return;
    const referred = referral ? await referOnCall(answer.call.id, referral) : "";
    resetLog();
    onLogged([answerWords(answer, true), referred].filter(Boolean).join(" "));
  });
}
