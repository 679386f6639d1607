// @ts-check
// The frame the staff pages share besides the console: who is signed in, the pages her roles
// open (the nav, which the console shows too), sign-out and language. Sign-in itself is the
// console's: a signed-out visit goes there and comes back (?next=), so there is one sign-in form,
// one password flow and one place that keeps a session. A page her roles do not open says so;
// the server refuses its API all the same.

import { applyI18n, bindLangToggle, onLangChange, t, label } from "../i18n.js";
import { api, ApiError, makeCall } from "./api.js";
import { byId, errorMessage } from "./dom.js";
import { showToast, hideToast } from "./toast.js";

export { showToast, hideToast }; // the pages' toast, from lib/toast.js

/**
 * @typedef {object} StaffUser
 * @property {number | string} id
 * @property {string} username
 * @property {string} [display_name]
 * @property {string[]} [roles]
 */

/** The staff pages, in the nav's order, and the roles each is for. */
export const STAFF_PAGES = [
  { path: "/console", key: "nav.console", roles: ["counselor", "supervisor", "phone_staff"] },
  { path: "/phone", key: "nav.phone", roles: ["phone_staff", "supervisor"] },
  { path: "/board", key: "nav.board", roles: ["supervisor"] },
  { path: "/audit", key: "nav.audit", roles: ["supervisor", "admin"] },
  { path: "/report", key: "nav.report", roles: ["supervisor", "admin"] },
  { path: "/agencies", key: "nav.agencies", roles: ["supervisor", "admin"] },
  { path: "/activities", key: "nav.activities", roles: ["counselor", "supervisor", "phone_staff"] },
  { path: "/accounts", key: "nav.accounts", roles: ["admin"] },
];

/** @param {StaffUser} user @param {string[]} roles */
export function hasAnyRole(user, roles) {
  return Array.isArray(user.roles) && user.roles.some((r) => roles.includes(r));
}

/**
 * Where to go after signing in: `next` if it is one of our pages (never another site), else null.
 * @param {string | null} next
 * @returns {string | null}
 */
export function safeNext(next) {
  return STAFF_PAGES.some((p) => p.path === next) ? next : null;
}

/**
 * Fill `nav` with a link to each page her roles open; the current page is marked. Hidden when
 * she has only the one page.
 * @param {HTMLElement} nav
 * @param {StaffUser | null} user
 */
export function renderNav(nav, user) {
  const pages = user ? STAFF_PAGES.filter((p) => hasAnyRole(user, p.roles)) : [];
  const list = document.createElement("ul");
  list.className = "staff-nav-list";
  for (const page of pages) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "staff-nav-link";
    link.href = page.path;
    link.dataset.testid = `nav-${page.path.slice(1)}`;
    link.textContent = t(page.key);
    if (window.location.pathname === page.path) link.setAttribute("aria-current", "page");
    item.append(link);
    list.append(item);
  }
  nav.replaceChildren(list);
  nav.setAttribute("aria-label", t("nav.label"));
  nav.hidden = pages.length < 2;
}

/** Like api(), but a 401 goes back to sign-in and any other error is shown; null on failure. */
export const call = makeCall({ onUnauthorized: toSignIn, onError: showToast });

/**
 * The top bar's menu on a narrow screen: the toggle (#topbar-menu-toggle, shown from `show`)
 * folds the tools (#topbar-tools: who she is, alerts, sign-out) away so that the page starts near
 * the top; on a wide screen CSS shows the tools and hides the toggle. Escape closes it.
 * @returns {(show: boolean) => void} show or hide the toggle (hidden while signed out)
 */
export function bindTopbarMenu() {
  const toggle = byId("topbar-menu-toggle", HTMLElement);
  const bar = toggle.closest(".topbar");
  /** @param {boolean} open */
  const setOpen = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    if (bar instanceof HTMLElement) bar.dataset.menu = open ? "open" : "closed";
  };
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  bar?.addEventListener("keydown", (e) => {
    if (!(e instanceof KeyboardEvent) || e.key !== "Escape") return;
    if (toggle.getAttribute("aria-expanded") !== "true") return;
    setOpen(false);
    toggle.focus();
  });
  return (show) => {
    toggle.hidden = !show;
    if (!show) setOpen(false);
  };
}

/**
 * @typedef {object} StaffPageOptions
 * @property {string[]} roles the roles the page is for
 * @property {(user: StaffUser) => void | Promise<void>} onSignedIn build the page for her
 * @property {() => void} [onLangChange] re-render what the page wrote itself
 * @property {() => void} [onSignOut] stop what the page runs (sockets, timers)
 */

/**
 * Boot a staff page: the markup has #staff-nav, #user-name, #user-roles, #signout, #lang-toggle,
 * #page-main (the page, hidden until she may see it) and #page-denied.
 * @param {StaffPageOptions} options
 */
export async function startStaffPage(options) {
  applyI18n();
  bindLangToggle(byId("lang-toggle", HTMLElement));
  /** @type {StaffUser | null} */
  let me = null;
  const renderFrame = () => {
    renderNav(byId("staff-nav", HTMLElement), me);
    if (!me) return;
    byId("user-name", HTMLElement).textContent = t("console.signedInAs", {
      name: me.display_name || me.username,
    });
    byId("user-roles", HTMLElement).textContent = (me.roles || []).map((r) => label("role", r)).join("・");
  };
  onLangChange(() => {
    renderFrame();
    options.onLangChange?.();
  });
  const showMenu = bindTopbarMenu();
  byId("toast-close", HTMLElement).addEventListener("click", hideToast);
  byId("signout", HTMLElement).addEventListener("click", async () => {
    options.onSignOut?.();
    try {
      await api("DELETE", "/api/session");
    } finally {
      toSignIn();
    }
  });
  try {
    const data = await api("GET", "/api/me");
    me = data && data.user ? data.user : null;
  } catch (e) {
    // accounts: one who must set a new password first does that at the console's sign-in
    if (e instanceof ApiError && e.code === "password_change_required") return toSignIn();
    if (!(e instanceof ApiError && e.status === 401)) {
      byId("page-denied", HTMLElement).textContent = errorMessage(e);
      byId("page-denied", HTMLElement).hidden = false;
      return;
    }
  }
  if (!me) return toSignIn();
  renderFrame();
  byId("user-box", HTMLElement).hidden = false;
  showMenu(true);
  if (!hasAnyRole(me, options.roles)) {
    byId("page-denied", HTMLElement).textContent = t("nav.denied");
    byId("page-denied", HTMLElement).hidden = false;
    return;
  }
  byId("page-main", HTMLElement).hidden = false;
  await options.onSignedIn(me);
}

/** To the console's sign-in, to come back here after it. */
export function toSignIn() {
  const next = encodeURIComponent(window.location.pathname);
  window.location.assign(`/console?next=${next}`);
}
