// @ts-check
// Tsunagu Inbox — the accounts page (admins): every account with its roles and state; create one,
// edit a display name and roles, disable and enable, reset a password (the temporary password is
// shown once, here). The frame (sign-in, nav, language) is lib/staff_page.js; the server decides
// every permission (an admin cannot disable herself nor drop her own admin role: own_account).

import { t, label } from "../i18n.js";
import { api } from "../lib/api.js";
import { byId, el, errorMessage, morphChildren } from "../lib/dom.js";
import { startStaffPage, showToast } from "../lib/staff_page.js";
import {
  bindCreateForm,
  bindEditDialog,
  openEditDialog,
  renderCreateForm,
  renderEditDialog,
} from "./forms.js";

/** @typedef {import("./forms.js").Account} Account */
/** @typedef {import("../lib/staff_page.js").StaffUser} StaffUser */

/** @type {{ me: StaffUser | null, users: Account[], notice: Notice | null }} */
const page = { me: null, users: [], notice: null };

/**
 * What the notice line says: an i18n key and its name, and a temporary password to show once.
 * @typedef {object} Notice
 * @property {string} key
 * @property {string} name
 * @property {string} [temporary]
 */

async function load() {
  try {
    const data = await api("GET", "/api/users");
    page.users = data.users;
  } catch (err) {
    showToast(errorMessage(err) || t("error.network"));
  }
  renderRows();
}

/** @param {Account} user */
function nameOf(user) {
  return user.display_name || user.username;
}

/** @param {Account} updated */
function replaceUser(updated) {
  const at = page.users.findIndex((u) => u.id === updated.id);
  if (at >= 0) page.users[at] = updated;
  else page.users.push(updated);
  page.users.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  renderRows();
}

/** @param {Notice | null} notice */
function setNotice(notice) {
  page.notice = notice;
  renderNotice();
}

function renderNotice() {
  const box = byId("accounts-notice", HTMLElement);
  const notice = page.notice;
  if (!notice) return box.replaceChildren();
  const text = el("p", "accounts-notice-text", t(notice.key, { name: notice.name }));
  const parts = [text];
  if (notice.temporary) {
    const code = el("code", "temporary-password", notice.temporary);
    code.dataset.testid = "temporary-password";
    text.append(" ", code);
    parts.push(el("p", "field-hint", t("accounts.temporaryHint")));
  }
  const close = el("button", "btn btn-small btn-quiet", t("accounts.dismiss"));
  close.type = "button";
  close.dataset.testid = "notice-dismiss";
  close.addEventListener("click", () => setNotice(null));
  box.replaceChildren(...parts, close);
}

/** The account as the page has it now (a row's buttons outlive a redraw). @param {string} username */
function current(username) {
  return page.users.find((u) => u.username === username) || null;
}

/**
 * One of a row's action buttons; its name says whose account it acts on. It acts on the account
 * as it is when pressed (the row is redrawn in place, its buttons kept).
 * @param {string} key @param {string} testid @param {Account} user @param {(user: Account) => void} run
 */
function action(key, testid, user, run) {
  const button = el("button", "btn btn-small", t(key));
  button.type = "button";
  button.dataset.testid = testid;
  button.dataset.key = testid;
  button.dataset.focusKey = `${testid}:${user.username}`;
  button.setAttribute("aria-label", t("accounts.actionOn", { action: t(key), name: user.username }));
  button.addEventListener("click", () => {
    const now = current(user.username);
    if (now) run(now);
  });
  return button;
}

/** @param {Account} user */
function renderRow(user) {
  const row = el("tr");
  row.dataset.testid = `account-${user.username}`;
  row.dataset.key = `account-${user.username}`;
  const mine = page.me !== null && String(page.me.id) === String(user.id);
  const nameCell = el("th", "", user.username);
  nameCell.scope = "row";
  if (mine) nameCell.append(el("span", "account-you", ` ${t("accounts.you")}`));
  const state = el("td", "account-state");
  const enabled = el(
    "span",
    user.disabled ? "state-badge state-disabled" : "state-badge state-enabled",
    t(user.disabled ? "accounts.state.disabled" : "accounts.state.enabled"),
  );
  state.append(enabled);
  if (user.must_change_password) {
    state.append(" ", el("span", "state-badge state-must-change", t("accounts.state.mustChange")));
  }
  const actions = el("div", "account-actions");
  actions.setAttribute("role", "group");
  actions.setAttribute("aria-label", t("accounts.actionsFor", { name: user.username }));
  actions.append(action("accounts.edit", "account-edit", user, openEditDialog));
  if (user.disabled) {
    actions.append(action("accounts.enable", "account-enable", user, enable));
  } else if (!mine) {
    actions.append(action("accounts.disable", "account-disable", user, disable));
  }
  actions.append(action("accounts.reset", "account-reset", user, reset));
  const actionsCell = el("td");
  actionsCell.append(actions);
  row.append(
    nameCell,
    el("td", "", user.display_name),
    el("td", "", (user.roles || []).map((r) => label("role", r)).join("・")),
    state,
    actionsCell,
  );
  return row;
}

/** The buttons that stand in for one that is gone: Disable and Enable for each other. */
const COUNTERPART = /** @type {Record<string, string>} */ ({ "account-disable": "account-enable", "account-enable": "account-disable" });

/**
 * Draw the rows in place, by key: a row that did not change stays as it is, and the button she
 * pressed keeps her focus; when it is gone (Disable became Enable) its counterpart in the same
 * row gets it, else the row's first button.
 */
function renderRows() {
  const active = document.activeElement;
  const key = active instanceof HTMLElement ? active.dataset.focusKey : undefined;
  morphChildren(byId("accounts-rows", HTMLElement), page.users.map(renderRow));
  if (!key || (active instanceof HTMLElement && active.isConnected)) return;
  const [testid, username] = key.split(/:(.*)/s);
  const row = document.querySelector(`tr[data-key="account-${CSS.escape(username)}"]`);
  if (!row) return;
  const next =
    row.querySelector(`button[data-testid="${COUNTERPART[testid] || testid}"]`) || row.querySelector("button");
  if (next instanceof HTMLElement) next.focus();
}

/**
 * Run one account action; on success the row and the notice say what was done.
 * @param {string} method @param {string} path @param {(data: any) => Notice} notice
 */
async function act(method, path, notice) {
  try {
    const data = await api(method, path);
    replaceUser(data.user);
    setNotice(notice(data));
  } catch (err) {
    showToast(errorMessage(err) || t("error.network"));
  }
}

/** @param {Account} user */
async function disable(user) {
  if (!window.confirm(t("accounts.confirmDisable", { name: nameOf(user) }))) return;
  const path = `/api/users/${encodeURIComponent(user.username)}/disable`;
  await act("POST", path, () => ({ key: "accounts.disabledDone", name: nameOf(user) }));
}

/** @param {Account} user */
async function enable(user) {
  const path = `/api/users/${encodeURIComponent(user.username)}/enable`;
  await act("POST", path, () => ({ key: "accounts.enabledDone", name: nameOf(user) }));
}

/** @param {Account} user */
async function reset(user) {
  if (!window.confirm(t("accounts.confirmReset", { name: nameOf(user) }))) return;
  const path = `/api/users/${encodeURIComponent(user.username)}/password`;
  await act("POST", path, (data) => ({
    key: "accounts.temporary",
    name: nameOf(user),
    temporary: String(data.temporary_password),
  }));
}

startStaffPage({
  roles: ["admin"],
  onSignedIn: async (me) => {
    page.me = me;
    bindCreateForm((user) => {
      replaceUser(user);
      setNotice({ key: "accounts.created", name: nameOf(user) });
    });
    bindEditDialog((user) => {
      replaceUser(user);
      setNotice({ key: "accounts.saved", name: nameOf(user) });
    });
    // Admins have no staff socket: the list is fetched again whenever she comes back to the
    // page (a counselor may have set her password meanwhile).
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") load();
    });
    await load();
  },
  onLangChange: () => {
    renderCreateForm();
    renderEditDialog();
    renderRows();
    renderNotice();
  },
});
