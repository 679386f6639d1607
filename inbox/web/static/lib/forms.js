// @ts-check
// What the staff forms share: the password rule, and a form's error line (.form-error) with the
// field it is about marked (aria-invalid) and focused.

export const MIN_PASSWORD_CHARS = 10; // inbox/auth.py MIN_PASSWORD_CHARS

/**
 * Say `text` in a form's error line (null hides it) and mark and focus the field it is about.
 * @param {HTMLElement} line the .form-error
 * @param {string | null} text
 * @param {HTMLElement | null} [field]
 */
export function showFormError(line, text, field = null) {
  line.textContent = text ?? "";
  line.hidden = text === null;
  if (text !== null && field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

/**
 * Hide a form's error line and unmark its fields.
 * @param {HTMLElement} line
 * @param {ParentNode} form
 */
export function clearFormError(line, form) {
  showFormError(line, null);
  for (const f of form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
}

/**
 * Like showFormError, with the error line moved to just after the field's own block (its
 * .field or fieldset), so that on a long form the error is read next to what it is about.
 * @param {HTMLElement} line the .form-error
 * @param {string} text
 * @param {HTMLElement} field
 */
export function showFieldError(line, text, field) {
  const block = field.closest(".field, fieldset") ?? field;
  if (block.nextElementSibling !== line) block.after(line);
  showFormError(line, text, field);
}
