// @ts-check
// The sign-in view.

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { errorMessage } from "../lib/dom.js";
import { els } from "./state.js";
import { showSignedIn } from "./header.js";
import { showPasswordForm, hidePasswordForm } from "./password.js";

/** Show the sign-in form, with an optional note (an i18n key: "login.expired", ...). @param {string} [infoKey] */
export function showLogin(infoKey) {
  els.appView.hidden = true;
  showSignedIn(false);
  els.loginView.hidden = false;
  hidePasswordForm();
  els.loginInfo.textContent = infoKey ? t(infoKey) : "";
  els.loginInfo.dataset.key = infoKey || "";
  els.loginError.hidden = true;
  els.loginPassword.value = "";
  els.loginSubmit.disabled = false;
  els.loginSubmit.textContent = t("login.submit");
  els.loginUsername.focus();
}

/** Re-render the form's own texts (after a language change). */
export function renderLogin() {
  if (els.loginInfo.dataset.key) els.loginInfo.textContent = t(els.loginInfo.dataset.key);
  if (!els.loginSubmit.disabled) els.loginSubmit.textContent = t("login.submit");
}

/**
 * Wire the form: a successful sign-in hands the user to `onSignedIn`.
 * @param {(user: import("./types.js").User) => Promise<void>} onSignedIn
 */
export function bindLogin(onSignedIn) {
  els.loginForm.addEventListener("submit", (e) => onLoginSubmit(e, onSignedIn));
}

/**
 * @param {Event} e
 * @param {(user: import("./types.js").User) => Promise<void>} onSignedIn
 */
async function onLoginSubmit(e, onSignedIn) {
  e.preventDefault();
  const username = els.loginUsername.value.trim();
  const password = els.loginPassword.value;
  els.loginError.hidden = true;
  if (!username || !password) {
    els.loginError.textContent = t("login.required");
    els.loginError.hidden = false;
    (!username ? els.loginUsername : els.loginPassword).focus();
    return;
  }
  els.loginSubmit.disabled = true;
  els.loginSubmit.textContent = t("login.submitting");
  try {
    const data = await api("POST", "/api/session", { username, password });
    els.loginPassword.value = "";
    els.loginInfo.textContent = "";
    // An admin set this password: she sets her own before anything else (the server refuses
    // everything else until she has), then goes on as from any sign-in.
    if (data.user && data.user.must_change_password) showPasswordForm(data.user, password, onSignedIn);
    else await onSignedIn(data.user);
  } catch (err) {
    els.loginError.textContent = loginErrorText(err);
    els.loginError.hidden = false;
    els.loginPassword.value = "";
    els.loginPassword.focus();
  } finally {
    els.loginSubmit.disabled = false;
    els.loginSubmit.textContent = t("login.submit");
  }
}

/** @param {unknown} err */
function loginErrorText(err) {
  if (!(err instanceof ApiError)) return errorMessage(err) || t("error.network");
  if (err.code === "bad_credentials") return t("login.badCredentials");
  if (err.code === "too_many_attempts") {
    return t("login.tooMany", { minutes: Math.max(1, Math.ceil((err.retryAfterS || 60) / 60)) });
  }
  return err.message || t("error.network");
}
