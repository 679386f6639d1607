// @ts-check
// Importing the directory from a CSV (Excel's "CSV UTF-8", or with Japanese or English headers):
// first a preview of what each row would do (add, update, unchanged), written nowhere; then the
// import itself, all rows in one go. A bad row is said with its row and column, and nothing is
// imported. The file goes to the server as it is (POST /api/agencies/import, text/csv).

import { t } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el, errorMessage } from "../lib/dom.js";
import { clearFormError, showFieldError } from "../lib/forms.js";

/**
 * @typedef {object} ImportHooks
 * @property {(id: string) => string} kindWord
 * @property {(text: (() => string) | null) => void} setNotice
 * @property {() => void} startAction clears the last action's notice and errors
 * @property {() => Promise<void>} load
 */

/** @type {{hooks: ImportHooks | null, preview: any, file: File | null}} */
const state = { hooks: null, preview: null, file: null };

function els() {
  return {
    form: byId("import-form", HTMLFormElement),
    file: byId("import-file", HTMLInputElement),
    error: byId("import-error", HTMLElement),
    previewButton: byId("import-preview", HTMLButtonElement),
    apply: byId("import-apply", HTMLButtonElement),
    result: byId("import-result", HTMLElement),
  };
}

/** A CSV column's name as the page says it. @param {unknown} column */
function columnWord(column) {
  const known = ["name", "kind", "area", "contact", "note"];
  if (typeof column === "string" && known.includes(column)) return t(`agencies.${column}`);
  return column === null || column === undefined ? "" : String(column);
}

/** What was wrong with the file, in the page's language. @param {unknown} err */
function problemText(err) {
  if (!(err instanceof ApiError) || err.field !== "csv") return errorMessage(err) || t("error.network");
  const d = err.details;
  const problem = t(`agencies.problem.${String(d.problem)}`);
  const row = Number(d.row);
  if (!row) return problem;
  const where = d.column
    ? t("agencies.problemAtColumn", { row, column: columnWord(d.column) })
    : t("agencies.problemAt", { row });
  return `${where}${problem}`;
}

/** @param {boolean} preview */
async function send(preview) {
  const e = els();
  state.hooks?.startAction();
  const file = state.file;
  if (!file) return showFieldError(e.error, t("agencies.needFile"), e.file);
  const path = `/api/agencies/import${preview ? "?preview=1" : ""}`;
  e.previewButton.disabled = true;
  e.apply.disabled = true;
  try {
    const data = await api("POST", path, new Blob([file], { type: "text/csv" }));
    if (preview) {
      state.preview = data.import;
    } else {
      state.preview = null;
      state.file = null;
      e.form.reset();
      const r = data.import;
      state.hooks?.setNotice(() => t("agencies.importDone", { added: r.added, updated: r.updated, unchanged: r.unchanged }));
      await state.hooks?.load();
    }
  } catch (err) {
    state.preview = null;
    showFieldError(e.error, problemText(err), e.file);
  } finally {
    e.previewButton.disabled = false;
    e.apply.disabled = false;
  }
  renderImport();
}

/** The import form's error, gone (a new action started). */
export function clearImportError() {
  const e = els();
  clearFormError(e.error, e.form);
}

/** The preview: the counts, then each row and what it would do. */
export function renderImport() {
  const e = els();
  const p = state.preview;
  e.apply.hidden = !p;
  e.result.hidden = !p;
  if (!p) return e.result.replaceChildren();
  const summary = el("p", "import-summary", t("agencies.previewSummary", { added: p.added, updated: p.updated, unchanged: p.unchanged }));
  summary.dataset.testid = "import-summary";
  const list = el("ol", "import-rows");
  for (const r of p.rows) {
    const item = el("li", `import-row import-${r.action}`);
    item.dataset.testid = "import-row";
    const where = [t("agencies.rowNumber", { row: r.row }), r.name, state.hooks?.kindWord(r.kind) ?? r.kind, r.area]
      .filter(Boolean)
      .join(" ・ ");
    item.append(el("span", "import-action", t(`agencies.action.${r.action}`)), " ", el("span", "", where));
    if (r.archived) item.append(" ", el("span", "state-badge state-disabled", t("agencies.archived")));
    list.append(item);
  }
  e.result.replaceChildren(summary, list);
}

/** @param {ImportHooks} hooks */
export function bindImport(hooks) {
  state.hooks = hooks;
  const e = els();
  e.file.addEventListener("change", () => {
    state.file = e.file.files && e.file.files.length ? e.file.files[0] : null;
    state.preview = null;
    clearFormError(e.error, e.form);
    renderImport();
  });
  e.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send(true);
  });
  e.apply.addEventListener("click", () => send(false));
  renderImport();
}
