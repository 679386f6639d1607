// @ts-check
// What the two call forms share (the outcome of a callback, and a call logged by hand): their
// outcome, note, referrals and follow-up fields, sending POST /api/calls, the error said next to
// the field it is about, and the server's answer in words ("next try 12/8 12:00").

import { t, getLang, formatTime } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { clearFormError, showFieldError, showFormError } from "../lib/forms.js";
import { showToast, toSignIn } from "../lib/staff_page.js";
import { caseworkWords, checkedTopics, loadCaseworkWords, renderTopicChips, wordOf } from "../lib/casework.js";
import { settings, renderChoices, chosenOf, clearChoices } from "./settings.js";
import { tokyoToday, dayWords } from "./tokyo.js";

const MAX_MINUTES = 600;

/**
 * The shared fields of one form, by the request field each fills.
 * @typedef {object} CallFields
 * @property {HTMLFormElement} form
 * @property {HTMLFieldSetElement} outcomes
 * @property {HTMLInputElement} duration minutes
 * @property {HTMLTextAreaElement} note
 * @property {HTMLFieldSetElement} referrals
 * @property {HTMLInputElement} followUp
 * @property {HTMLElement} error
 * @property {HTMLButtonElement} submit
 * @property {string} prefix the form's id prefix ("log", "outcome")
 * @property {Record<string, HTMLElement>} [more] further request fields of this form
 * @property {HTMLFieldSetElement} [topics] casework: the call's topics, saved once it is logged
 * @property {HTMLSelectElement} [age] casework: the caller's age group, saved once it is logged
 */

/** (Re)draw the choice lists in the page's language. @param {CallFields} f */
export function renderCallFields(f) {
  renderChoices(f.outcomes, settings.outcomes, "radio", `${f.prefix}-outcome`);
  renderChoices(f.referrals, settings.referrals, "checkbox", `${f.prefix}-referral`);
  f.followUp.min = tokyoToday();
  renderTopics(f);
  renderAge(f);
}

/** --- casework: the age groups, in the page's language, keeping her choice. @param {CallFields} f */
function renderAge(f) {
  const select = f.age;
  if (!select) return;
  const draw = () => {
    const kept = select.value || "unknown";
    select.replaceChildren(
      ...caseworkWords().age_groups.map((w) => {
        const option = document.createElement("option");
        option.value = w.id;
        option.textContent = wordOf(w);
        return option;
      }),
    );
    select.value = kept;
    if (!select.value) select.value = "unknown";
  };
  if (caseworkWords().age_groups.length) draw();
  else loadCaseworkWords().then((w) => w && draw());
}

/** --- casework: the topics' chips, kept as she ticked them across a redraw. @param {CallFields} f */
function renderTopics(f) {
  const box = f.topics;
  if (!box) return;
  const draw = () => renderTopicChips(box, checkedTopics(box), { prefix: `${f.prefix}-topic` });
  if (caseworkWords().topics.length) draw();
  else loadCaseworkWords().then((w) => w && draw());
}

/** Back to empty after a call was logged. @param {CallFields} f */
export function resetCallFields(f) {
  clearChoices(f.outcomes);
  clearChoices(f.referrals);
  if (f.topics) renderTopicChips(f.topics, [], { prefix: `${f.prefix}-topic` });
  if (f.age) f.age.value = "unknown";
  f.duration.value = "0";
  f.note.value = "";
  f.followUp.value = "";
  clearFormError(f.error, f.form);
}

/**
 * The shared part of the request, or an error said next to its field (null then).
 * @param {CallFields} f
 * @returns {{outcome: string, duration_s: number, note: string, referrals: string[], follow_up: string | null} | null}
 */
export function readCallFields(f) {
  clearFormError(f.error, f.form);
  const outcome = chosenOf(f.outcomes)[0];
  const minutes = Number(f.duration.value.normalize("NFKC").trim() || "0");
  if (!outcome) return fieldError(f, f.outcomes, "phone.needOutcome");
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > MAX_MINUTES) {
    return fieldError(f, f.duration, "phone.badDuration");
  }
  if (f.followUp.value && f.followUp.value < tokyoToday()) return fieldError(f, f.followUp, "phone.badFollowUp");
  return {
    outcome,
    duration_s: Math.round(minutes * 60),
    note: f.note.value.trim(),
    referrals: chosenOf(f.referrals),
    follow_up: f.followUp.value || null,
  };
}

/**
 * Say `key` next to `field`; null, for the caller to return.
 * @param {CallFields} f
 * @param {HTMLElement} field
 * @param {string} key
 * @returns {null}
 */
function fieldError(f, field, key) {
  showFieldError(f.error, t(key), field);
  return null;
}

/** The element a request field is entered in. @param {CallFields} f @param {string} name */
function fieldFor(f, name) {
  /** @type {Record<string, HTMLElement>} */
  const fields = {
    outcome: f.outcomes,
    duration_s: f.duration,
    note: f.note,
    referrals: f.referrals,
    follow_up: f.followUp,
    ...(f.topics ? { topics: f.topics } : {}),
    ...(f.more ?? {}),
  };
  return fields[name] ?? null;
}

/** A field's name as the form shows it (its label or legend). @param {HTMLElement} field */
function fieldName(field) {
  const legend = field instanceof HTMLFieldSetElement ? field.querySelector("legend") : null;
  const label = legend ?? (field.id ? document.querySelector(`label[for="${field.id}"]`) : null);
  return label?.textContent?.trim() || "";
}

/**
 * POST /api/calls with `body` (or `to` another: PATCH /api/calls/{id} for a stored call); the
 * answer, or null after saying what went wrong in the form (next to the field the server named).
 * @param {CallFields} f
 * @param {Record<string, unknown>} body
 * @param {{method: string, path: string}} [to]
 * @returns {Promise<{call: any, callback: any} | null>}
 */
export async function sendCall(f, body, to = { method: "POST", path: "/api/calls" }) {
  clearFormError(f.error, f.form);
  f.submit.disabled = true;
  try {
    const answer = await api(to.method, to.path, body);
    // --- casework: the topics she ticked go on the call once it is stored
    const topics = f.topics ? checkedTopics(f.topics) : [];
    if (answer && answer.call && topics.length) {
      // the call is logged whatever happens here: say so, and never send it twice
      await api("PUT", `/api/calls/${encodeURIComponent(answer.call.id)}/topics`, { topics }).catch((err) =>
        showToast(`${t("casework.topicsNotSaved")} ${(err instanceof Error && err.message) || ""}`),
      );
    }
    // --- casework: her age group goes on the call's contact (a withheld call has none)
    const age = f.age && !f.age.disabled ? f.age.value : "unknown";
    if (answer && answer.call && !answer.call.withheld && age && age !== "unknown") {
      await api("PUT", `/api/calls/${encodeURIComponent(answer.call.id)}/age-group`, { age_group: age }).catch((err) =>
        showToast(`${t("casework.ageNotSaved")} ${(err instanceof Error && err.message) || ""}`),
      );
    }
    return answer;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      toSignIn();
      return null;
    }
    const field = err instanceof ApiError && err.field ? fieldFor(f, err.field) : null;
    const text = (err instanceof Error && err.message) || t("error.network");
    if (field) showFieldError(f.error, t("phone.fieldProblem", { field: fieldName(field) }), field);
    else {
      const bar = f.form.querySelector(".phone-form-bar");
      if (bar && bar.previousElementSibling !== f.error) bar.before(f.error);
      showFormError(f.error, text);
    }
    return null;
  } finally {
    f.submit.disabled = false;
  }
}

/**
 * The server's answer in words: logged, and what became of the callback: for a try on one, the
 * next try or why it closed; for a call logged by hand with a follow-up, the callback it opened.
 * @param {{call: any, callback: any}} answer
 * @param {boolean} byHand logged by hand (not a try on a callback)
 */
export function answerWords(answer, byHand) {
  const parts = [t("phone.logged")];
  const cb = answer.callback;
  const follow = answer.call && answer.call.follow_up;
  if (cb && cb.status === "retry") parts.push(t(byHand ? "phone.callbackAt" : "phone.nextTry", { at: formatTime(cb.at) }));
  else if (cb && cb.status === "closed") parts.push(t("phone.closed", { reason: closedWords(cb.reason) }));
  else if (typeof follow === "string" && follow) parts.push(t("phone.followUpSet", { day: dayWords(follow, getLang()) }));
  return parts.join(" ");
}

/** @param {unknown} reason */
function closedWords(reason) {
  const key = `phone.closedReason.${String(reason)}`;
  const s = t(key);
  return s === key ? String(reason) : s;
}
