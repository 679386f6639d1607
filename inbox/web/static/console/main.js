// @ts-check
// Tsunagu Inbox — counselor console: boot, and the session's start and end.
// Module map: state.js (the one state object, the page's elements), header.js (status, user,
// toast), session.js (call(), session end), login.js, queue.js, conversation.js, messages.js,
// composer.js, live.js (the /api/ws wiring). User text is only ever rendered with textContent.

import { applyI18n, bindLangToggle, onLangChange } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { errorMessage } from "../lib/dom.js";
import { state, els, bindElements } from "./state.js";
import { setConn, renderUser, showSignedIn, showToast, hideToast } from "./header.js";
import { onSessionEnd, endSession } from "./session.js";
import { showLogin, renderLogin, bindLogin } from "./login.js";
import { loadQueue, refreshQueue, renderQueue, resetQueue, bindQueue } from "./queue.js";
import {
  openConversation,
  renderConversationHead,
  resetConversation,
  bindConversation,
  onConversationOpen,
  onConversationLeave,
  refreshOpen,
} from "./conversation.js";
import { bindSearch, renderSearch, resetSearch } from "./search.js";
import { bindTimeline, loadTimeline, renderTimeline, resetTimeline } from "./timeline.js";
import { bindClosing, loadOutcomes, renderClosing, resetClosing } from "./closing.js";
import { rerenderMessages } from "./messages.js";
import { renderComposerMode, resetComposer, bindComposer } from "./composer.js";
import { onLiveFrame, startLive, stopLive } from "./live.js";
import { STAFF_PAGES, hasAnyRole, renderNav, safeNext } from "../lib/staff_page.js";
// --- desk: labels' words, presence and load, tags, canned replies
import { loadLabels, resetLabels } from "./labels.js";
import { bindDesk, loadDesk, renderDesk, resetDesk } from "./desk.js";
import { bindTags, renderTags } from "./tags.js";
import { bindPicker, renderPicker, resetPicker } from "./canned.js";
import { bindEditor, renderEditor, resetEditor } from "./canned_editor.js";
import { bindTogether, loadStaffNames, renderTogether, resetTogether } from "./together.js";
import { bindUrgency, renderBanners, resetUrgency } from "./urgency.js";
// --- accounts: her own password after signing in with one an admin set
import { bindPasswordForm, renderPasswordForm } from "./password.js";
// --- actions: revealing an address; told of a conversation moved to her
import { bindReveal, renderReveal, resetReveal } from "./reveal.js";
import { bindHandover, renderHandover, resetHandover } from "./handover.js";
// --- sms: the reply box's segment count and limit, the opted-out banner
import { bindSms, loadSms, resetSms } from "./sms.js";
// --- line: the opted-out banner (SMS STOP, LINE block) and the send button it holds back
import { bindOptOut, renderOptOut } from "./optout.js";
// --- callback: asking the phone desk to call her back
import { bindCallback, renderCallback, resetCallback } from "./callback.js";
import { bindFollowUps, renderFollowUps, resetFollowUps } from "./follow_ups.js";
// --- casework: referrals to partner agencies
import { bindReferrals, heardReferrals, loadReferrals, renderReferrals, resetReferrals } from "./referrals.js";
// --- casework: the topics and profile panel
import { bindTopics, renderTopics } from "./topics.js";

const CONSOLE_ROLES = ["counselor", "supervisor", "phone_staff"];

/**
 * The page she came to sign in for (?next=), if her roles open it; else the phone desk for phone
 * staff who are not counselors; else, when the console is not hers (an admin), the first page
 * that is; else null: she stays here.
 * @param {import("./types.js").User} user
 * @param {boolean} fresh she has just signed in with the form (not a reload of a session)
 * @returns {string | null}
 */
function pageAfterSignIn(user, fresh) {
  const next = safeNext(new URLSearchParams(window.location.search).get("next"));
  const page = STAFF_PAGES.find((p) => p.path === next);
  if (page && page.path !== "/console" && hasAnyRole(user, page.roles)) return page.path;
  // phone staff who counsel no one, just signed in: their work is the phone desk's page (the
  // nav's "Console" still opens the console for them)
  if (fresh && !next && hasAnyRole(user, ["phone_staff"]) && !hasAnyRole(user, ["counselor", "supervisor"])) {
    return "/phone";
  }
  if (hasAnyRole(user, CONSOLE_ROLES)) return null;
  return STAFF_PAGES.find((p) => hasAnyRole(user, p.roles))?.path ?? null;
}

/** @param {import("./types.js").User} user @param {boolean} [fresh] just signed in with the form */
async function signedIn(user, fresh = false) {
  const elsewhere = pageAfterSignIn(user, fresh);
  if (elsewhere) {
    window.location.replace(elsewhere);
    return;
  }
  state.me = user;
  renderNav(els.staffNav, user);
  els.loginView.hidden = true;
  els.appView.hidden = false;
  showSignedIn(true);
  els.alertControls.hidden = false;
  renderUser();
  hideToast();
  clearInterval(state.tickTimer);
  state.tickTimer = setInterval(renderQueue, 30000); // keep waiting times current
  const fromHash = /^#\/c\/(\d+)$/.exec(window.location.hash);
  renderEditor();
  loadDesk();
  loadSms();
  await loadLabels(); // before the queue, so its tags show as words
  await Promise.all([loadQueue(), loadOutcomes(), loadStaffNames()]);
  if (fromHash) openConversation(Number(fromHash[1]), { focus: false });
  startLive();
}

/** Forget everything of the session that ended. */
function resetApp() {
  stopLive();
  clearInterval(state.tickTimer);
  state.me = null;
  renderNav(els.staffNav, null);
  els.alertControls.hidden = true;
  resetUrgency();
  resetQueue();
  resetConversation();
  resetComposer();
  resetSearch();
  resetTimeline();
  resetClosing();
  resetDesk();
  resetPicker();
  resetEditor();
  resetLabels();
  resetTogether();
  resetReveal();
  resetHandover();
  resetSms();
  renderOptOut(); // no conversation any more: no banner
  resetCallback();
  resetFollowUps();
  resetReferrals();
  setConn("offline");
}

async function signOut() {
  stopLive();
  try {
    await api("DELETE", "/api/session");
  } catch {
    /* signing out locally all the same */
  }
  endSession("login.signedOut");
}

async function init() {
  bindElements();
  applyI18n();
  bindLangToggle(els.langToggle);
  onLangChange(() => {
    setConn(state.connState);
    renderLogin();
    renderUser();
    renderNav(els.staffNav, state.me);
    renderQueue();
    renderConversationHead();
    renderComposerMode();
    rerenderMessages();
    renderSearch();
    renderTimeline();
    renderClosing();
    renderDesk();
    renderTags();
    renderPicker();
    renderEditor();
    renderTogether();
    renderBanners();
    renderPasswordForm();
    renderReveal();
    renderHandover();
    renderCallback();
    renderFollowUps();
    renderReferrals();
    renderTopics();
  });
  onSessionEnd((infoKey) => {
    resetApp();
    showLogin(infoKey);
  });

  bindLogin((user) => signedIn(user, true));
  bindPasswordForm(() => showLogin("login.signedOut"));
  els.signout.addEventListener("click", signOut);
  els.toastClose.addEventListener("click", hideToast);
  bindQueue((id) => openConversation(id));
  bindUrgency((id) => openConversation(id));
  bindConversation();
  bindComposer();
  bindSearch((id) => openConversation(id));
  bindTimeline();
  bindClosing();
  onConversationOpen(() => loadTimeline());
  onConversationLeave(resetTimeline);
  bindDesk();
  bindTags(() => {
    renderConversationHead();
    refreshQueue();
  });
  bindPicker();
  bindEditor();
  bindTogether();
  bindReveal();
  bindHandover((id) => openConversation(id));
  bindSms();
  bindOptOut();
  bindCallback();
  onConversationOpen(renderCallback); // not offered until her conversation is loaded
  bindFollowUps(() => {
    refreshOpen();
    refreshQueue();
  });
  onConversationLeave(resetFollowUps); // nothing of hers stays when another is opened
  bindReferrals();
  onConversationOpen(loadReferrals);
  onConversationLeave(resetReferrals);
  onLiveFrame(heardReferrals);
  bindTopics(); // after bindTags: the panel goes below the tags

  try {
    const data = await api("GET", "/api/me");
    if (data && data.user) await signedIn(data.user);
    else showLogin();
  } catch (e) {
    // A session that must set a new password first (reloaded before she did): she signs in
    // again with the password she was given, and the form follows.
    if (e instanceof ApiError && e.code === "password_change_required") {
      return showLogin("password.signInAgain");
    }
    showLogin();
    if (!(e instanceof ApiError && e.status === 401)) showToast(errorMessage(e));
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
