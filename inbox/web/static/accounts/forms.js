// @ts-check
// The accounts page's forms: create an account, and the dialog that edits one's display name and
// roles. Errors are said in the form, naming the field (the server's `field`, or ours).

import { t, label } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el, errorMessage } from "../lib/dom.js";
import { MIN_PASSWORD_CHARS, clearFormError, showFormError } from "../lib/forms.js";

export const ROLES = ["counselor", "supervisor", "phone_staff", "admin"];

/**
 * @typedef {object} Account
 * @property {number} id
 * @property {string} username
 * @property {string} display_name
 * @property {string[]} roles
 * @property {boolean} disabled
 * @property {boolean} [must_change_password]
 */

/**
 * Fill a fieldset with one checkbox per role (after its legend), keeping what was checked.
 * @param {HTMLElement} fieldset
 * @param {string} prefix id prefix, e.g. "create-role"
 * @param {string[]} [checked]
 */
export function renderRoleChoices(fieldset, prefix, checked) {
  const now = checked ?? chosenRoles(fieldset);
  for (const old of fieldset.querySelectorAll(".role-choice")) old.remove();
  for (const role of ROLES) {
    const wrap = el("label", "role-choice");
    const box = el("input");
    box.type = "checkbox";
    box.name = "roles";
    box.value = role;
    box.id = `${prefix}-${role}`;
    box.dataset.testid = `${prefix}-${role}`;
    box.checked = now.includes(role);
    wrap.append(box, el("span", "", label("role", role)));
    fieldset.append(wrap);
  }
}

/** @param {HTMLElement} fieldset @returns {string[]} */
export function chosenRoles(fieldset) {
  return [...fieldset.querySelectorAll("input[type=checkbox]")]
    .filter((b) => b instanceof HTMLInputElement && b.checked)
    .map((b) => /** @type {HTMLInputElement} */ (b).value);
}

/**
 * The field the server's error is about, among the form's.
 * @param {unknown} err
 * @param {Record<string, HTMLElement>} fields
 */
function fieldOf(err, fields) {
  return err instanceof ApiError && err.field ? (fields[err.field] ?? null) : null;
}

/**
 * Wire the create form; `onCreated` gets the new account.
 * @param {(user: Account) => void} onCreated
 */
export function bindCreateForm(onCreated) {
  const form = byId("create-form", HTMLFormElement);
  const username = byId("create-username", HTMLInputElement);
  const displayName = byId("create-display-name", HTMLInputElement);
  const roles = byId("create-roles", HTMLFieldSetElement);
  const password = byId("create-password", HTMLInputElement);
  const error = byId("create-error", HTMLElement);
  const submit = byId("create-submit", HTMLButtonElement);
  const fields = { username, display_name: displayName, roles, password };
  renderCreateForm();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(error, form);
    const chosen = chosenRoles(roles);
    if (!username.value.trim()) return showFormError(error, t("accounts.needUsername"), username);
    if (!chosen.length) return showFormError(error, t("accounts.needRole"), roles);
    if (password.value.length < MIN_PASSWORD_CHARS) {
      return showFormError(error, t("accounts.needPassword", { n: MIN_PASSWORD_CHARS }), password);
    }
    submit.disabled = true;
    submit.textContent = t("accounts.creating");
    try {
      const data = await api("POST", "/api/users", {
        username: username.value.trim(),
        display_name: displayName.value.trim() || null,
        roles: chosen,
        password: password.value,
        must_change_password: true,
      });
      form.reset();
      onCreated(data.user);
    } catch (err) {
      showFormError(error, errorMessage(err) || t("error.network"), fieldOf(err, fields));
    } finally {
      submit.disabled = false;
      submit.textContent = t("accounts.create");
    }
  });
}

/** Re-render what the create form wrote itself (after a language change). */
export function renderCreateForm() {
  renderRoleChoices(byId("create-roles", HTMLFieldSetElement), "create-role");
  byId("create-password-hint", HTMLElement).textContent = t("accounts.passwordHint", {
    n: MIN_PASSWORD_CHARS,
  });
}

/** @type {Account | null} */
let editing = null;

/**
 * Wire the edit dialog; `onSaved` gets the account as the server now has it.
 * @param {(user: Account) => void} onSaved
 */
export function bindEditDialog(onSaved) {
  const dialog = byId("edit-dialog", HTMLDialogElement);
  const form = byId("edit-form", HTMLFormElement);
  const displayName = byId("edit-display-name", HTMLInputElement);
  const roles = byId("edit-roles", HTMLFieldSetElement);
  const error = byId("edit-error", HTMLElement);
  const save = byId("edit-save", HTMLButtonElement);
  const fields = { display_name: displayName, roles };
  byId("edit-cancel", HTMLButtonElement).addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    editing = null;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!editing) return;
    clearFormError(error, form);
    const chosen = chosenRoles(roles);
    if (!displayName.value.trim()) {
      return showFormError(error, t("accounts.needDisplayName"), displayName);
    }
    if (!chosen.length) return showFormError(error, t("accounts.needRole"), roles);
    save.disabled = true;
    try {
      const path = `/api/users/${encodeURIComponent(editing.username)}`;
      const data = await api("PATCH", path, {
        display_name: displayName.value.trim(),
        roles: chosen,
      });
      dialog.close();
      onSaved(data.user);
    } catch (err) {
      showFormError(error, errorMessage(err) || t("error.network"), fieldOf(err, fields));
    } finally {
      save.disabled = false;
    }
  });
}

/** Open the dialog on an account. @param {Account} user */
export function openEditDialog(user) {
  editing = user;
  const dialog = byId("edit-dialog", HTMLDialogElement);
  const form = byId("edit-form", HTMLFormElement);
  clearFormError(byId("edit-error", HTMLElement), form);
  renderEditDialog();
  byId("edit-display-name", HTMLInputElement).value = user.display_name;
  renderRoleChoices(byId("edit-roles", HTMLFieldSetElement), "edit-role", user.roles);
  dialog.showModal();
  byId("edit-display-name", HTMLInputElement).focus();
}

/** Re-render the dialog's own words (after a language change). */
export function renderEditDialog() {
  if (!editing) return;
  byId("edit-heading", HTMLElement).textContent = t("accounts.editHeading", {
    name: editing.display_name || editing.username,
  });
  renderRoleChoices(byId("edit-roles", HTMLFieldSetElement), "edit-role");
}
