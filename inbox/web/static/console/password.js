// @ts-check
// Setting her own password after a sign-in with one an admin set (a new account, a reset): new
// and again, then on into the console (or the ?next= page) as from any sign-in. The password she
// just signed in with is the `current` the server asks for; it is held here only until then.

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { errorMessage } from "../lib/dom.js";
import { MIN_PASSWORD_CHARS, showFormError } from "../lib/forms.js";
import { els } from "./state.js";

/** @typedef {import("./types.js").User} User */

/** @type {{ current: string, onDone: (user: User) => Promise<void> } | null} */
let pending = null;

/**
 * Show the form in place of the sign-in form.
 * @param {User} user
 * @param {string} current the password she signed in with
 * @param {(user: User) => Promise<void>} onDone
 */
export function showPasswordForm(user, current, onDone) {
  pending = { current, onDone };
  els.loginForm.hidden = true;
  els.passwordForm.hidden = false;
  els.passwordUsername.value = user.username;
  els.passwordNew.value = "";
  els.passwordRepeat.value = "";
  els.passwordError.hidden = true;
  renderPasswordForm();
  els.passwordNew.focus();
}

/** Back to the sign-in form; what she typed is forgotten. */
export function hidePasswordForm() {
  pending = null;
  els.passwordForm.hidden = true;
  els.loginForm.hidden = false;
  els.passwordNew.value = "";
  els.passwordRepeat.value = "";
}

/** Re-render the form's own texts (after a language change). */
export function renderPasswordForm() {
  els.passwordRule.textContent = t("password.rule", { n: MIN_PASSWORD_CHARS });
  if (!els.passwordSubmit.disabled) els.passwordSubmit.textContent = t("password.submit");
}

/**
 * Wire the form once, at boot; `onSignedOut` runs when she signs out instead.
 * @param {() => void} onSignedOut
 */
export function bindPasswordForm(onSignedOut) {
  els.passwordForm.addEventListener("submit", onSubmit);
  els.passwordSignout.addEventListener("click", async () => {
    els.passwordSignout.disabled = true;
    try {
      await api("DELETE", "/api/session");
    } catch {
      /* signed out here all the same */
    } finally {
      els.passwordSignout.disabled = false;
    }
    hidePasswordForm();
    onSignedOut();
  });
}

/** @param {string} text @param {HTMLInputElement} field */
function showError(text, field) {
  showFormError(els.passwordError, text, field);
}

/** @param {Event} e */
async function onSubmit(e) {
  e.preventDefault();
  if (!pending) return;
  const chosen = els.passwordNew.value;
  els.passwordError.hidden = true;
  els.passwordNew.removeAttribute("aria-invalid");
  els.passwordRepeat.removeAttribute("aria-invalid");
  if (chosen.length < MIN_PASSWORD_CHARS) {
    return showError(t("password.tooShort", { n: MIN_PASSWORD_CHARS }), els.passwordNew);
  }
  if (chosen === pending.current) return showError(t("password.same"), els.passwordNew);
  if (els.passwordRepeat.value !== chosen) {
    return showError(t("password.mismatch"), els.passwordRepeat);
  }
  els.passwordSubmit.disabled = true;
  els.passwordSubmit.textContent = t("password.submitting");
  try {
    const data = await api("POST", "/api/session/password", {
      current: pending.current,
      new: chosen,
    });
    const { onDone } = pending;
    hidePasswordForm();
    await onDone(data.user);
  } catch (err) {
    const field = err instanceof ApiError && err.field === "new" ? els.passwordNew : els.passwordRepeat;
    showError(errorMessage(err) || t("error.network"), field);
  } finally {
    els.passwordSubmit.disabled = false;
    els.passwordSubmit.textContent = t("password.submit");
  }
}
