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
import { loadQueue, renderQueue, resetQueue, bindQueue } from "./queue.js";
import {
  openConversation,
  renderConversationHead,
  resetConversation,
  bindConversation,
} from "./conversation.js";
import { rerenderMessages } from "./messages.js";
import { renderComposerMode, resetComposer, bindComposer } from "./composer.js";
import { startLive, stopLive } from "./live.js";

/** @param {import("./types.js").User} user */
async function signedIn(user) {
  state.me = user;
  els.loginView.hidden = true;
  els.appView.hidden = false;
  showSignedIn(true);
  renderUser();
  hideToast();
  clearInterval(state.tickTimer);
  state.tickTimer = setInterval(renderQueue, 30000); // keep waiting times current
  const fromHash = /^#\/c\/(\d+)$/.exec(window.location.hash);
  await loadQueue();
  if (fromHash) openConversation(Number(fromHash[1]), { focus: false });
  startLive();
}

/** Forget everything of the session that ended. */
function resetApp() {
  stopLive();
  clearInterval(state.tickTimer);
  state.me = null;
  resetQueue();
  resetConversation();
  resetComposer();
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
    renderQueue();
    renderConversationHead();
    renderComposerMode();
    rerenderMessages();
  });
  onSessionEnd((infoKey) => {
    resetApp();
    showLogin(infoKey);
  });

  bindLogin(signedIn);
  els.signout.addEventListener("click", signOut);
  els.toastClose.addEventListener("click", hideToast);
  bindQueue((id) => openConversation(id));
  bindConversation();
  bindComposer();

  try {
    const data = await api("GET", "/api/me");
    if (data && data.user) await signedIn(data.user);
    else showLogin();
  } catch (e) {
    showLogin();
    if (!(e instanceof ApiError && e.status === 401)) showToast(errorMessage(e));
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
