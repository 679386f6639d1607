// @ts-check
// The outcome form under the call screen: after the call, how it went (outcome, minutes, note,
// referrals, a follow-up date), posted to /api/calls for this callback, or, for a call already
// stored (the desk's call just ended, or one waiting for an outcome), sent to that call with
// PATCH /api/calls/{id} (Twilio gave its time and length). The server's answer is
// said at the top of the page ("next try 12/8 12:00", or closed and why), the call screen
// closes and the lists are fetched again.

import { byId } from "../lib/dom.js";
import { callOnScreen, closeCall, onScreen } from "./call_screen.js";
import { answerWords, readCallFields, renderCallFields, resetCallFields, sendCall } from "./forms.js";
import { tokyoIso, tokyoLocal } from "./tokyo.js";
import { loadDirectory, referOnCall, referralFields } from "../lib/referrals.js";

// casework: a referral to a partner agency, beside the quick referral labels
const agencyReferral = referralFields("screen-referral");
byId("outcome-agency-referral", HTMLFieldSetElement).append(...agencyReferral.blocks);

/** @type {import("./forms.js").CallFields} */
const fields = {
  form: byId("outcome-form", HTMLFormElement),
  outcomes: byId("outcome-outcomes", HTMLFieldSetElement),
  duration: byId("outcome-duration", HTMLInputElement),
  note: byId("outcome-note", HTMLTextAreaElement),
  referrals: byId("outcome-referrals", HTMLFieldSetElement),
  topics: byId("outcome-topics", HTMLFieldSetElement), // --- casework
  age: byId("outcome-age", HTMLSelectElement),
  followUp: byId("outcome-follow-up", HTMLInputElement),
  error: byId("outcome-error", HTMLElement),
  submit: byId("outcome-submit", HTMLButtonElement),
  prefix: "outcome",
};

export function renderOutcomeForm() {
  renderCallFields(fields);
  agencyReferral.render();
}

export function resetOutcomeForm() {
  resetCallFields(fields);
  agencyReferral.reset();
}

/**
 * Wire the form; `onLogged` gets the server's answer in words.
 * @param {(words: string) => void} onLogged
 */
export function bindOutcomeForm(onLogged) {
  loadDirectory().then(() => agencyReferral.render());
  fields.form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const stored = callOnScreen();
    const call = onScreen();
    if (!stored && !call) return;
    const shared = readCallFields(fields);
    if (!shared) return;
    const referral = agencyReferral.chosen() ? agencyReferral.read(fields.error) : null;
    if (agencyReferral.chosen() && !referral) return;
    let answer;
    if (stored) {
      const { outcome, note, referrals, follow_up } = shared;
      answer = await sendCall(
        fields,
        { outcome, note, referrals, follow_up },
        { method: "PATCH", path: `/api/calls/${encodeURIComponent(stored.id)}` },
      );
    } else if (call) {
      // when the call began: when she dialled or was shown the number, else as long ago as it lasted
      const began = call.startedAt ?? new Date(Date.now() - shared.duration_s * 1000);
      answer = await sendCall(fields, {
        direction: "outbound",
        started_at: tokyoIso(tokyoLocal(began)),
        number: null,
        withheld: false,
        conversation: call.item.conversation,
        ...shared,
      });
    }
    if (!answer) return;
    const referred = referral ? await referOnCall(answer.call.id, referral) : "";
    resetCallFields(fields);
    agencyReferral.reset();
    closeCall();
    onLogged([answerWords(answer, false), referred].filter(Boolean).join(" "));
  });
}
