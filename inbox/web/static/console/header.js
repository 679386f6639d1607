// @ts-check
// The top bar: connection status and who is signed in (the toast that shows errors is lib/toast.js).

import { t, label } from "../i18n.js";
import { state, els } from "./state.js";
import { bindTopbarMenu } from "../lib/staff_page.js";

export { showToast, hideToast } from "../lib/toast.js"; // the pages' toast, shared

/** @type {((show: boolean) => void) | null} */
let showMenu = null;

/** @param {import("./state.js").ConnState} s */
export function setConn(s) {
  state.connState = s;
  els.status.dataset.state = s;
  els.statusText.textContent = t(`console.status.${s}`);
}

export function renderUser() {
  const u = state.me;
  if (!u) return;
  els.userName.textContent = t("console.signedInAs", { name: u.display_name || u.username });
  const roles = Array.isArray(u.roles) ? u.roles : [];
  els.userRoles.textContent = roles.map((r) => label("role", r)).join("・");
}

/** Show or hide what only a signed-in person sees in the top bar. @param {boolean} signedIn */
export function showSignedIn(signedIn) {
  showMenu ??= bindTopbarMenu();
  showMenu(signedIn);
  els.userBox.hidden = !signedIn;
  els.status.hidden = !signedIn;
}
