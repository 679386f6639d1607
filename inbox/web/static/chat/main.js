// @ts-check
// Tsunagu Inbox — consulter web chat: boot, sending, and the safety controls (quick exit, keep on
// this device, clear history). No account: a token resumes the session, kept in this tab only
// unless she chose to keep it on the device. Unacknowledged messages are kept beside it and
// resent with the same client_id (the server dedups by it).
// Module map: storage.js (this device's store), state.js (state, elements), view.js (the list),
// composer.js (counter), protocol.js (the socket and its frames), service.js (settings, hours and
// standing in words), info.js (the hours, standing and ended notice). Text only via textContent.

import { t, applyI18n, bindLangToggle, onLangChange } from "../i18n.js";
import { state, els, bindElements } from "./state.js";
import {
  TOKEN_KEY,
  PENDING_KEY,
  storeRemove,
  loadPendingFromStore,
  keepsOnDevice,
  useDeviceStorage,
  setKeep,
  forgetUnlessKept,
} from "./storage.js";
import { setStatus, updateEmpty, scrollToBottom, renderMeta, renderEarlier, showBanner } from "./view.js";
import { MAX_LEN, codePointLength, updateCounter } from "./composer.js";
import { live, addPending, sendNew, sendPending, loadEarlier, askQueueStatus, sayLanguage } from "./protocol.js";
import { bindTogether, renderTyping, resetReading } from "./together.js";
import { FALLBACK_EXIT_URL, loadSettings } from "./service.js";
import { renderInfo, setHours } from "./info.js";
import { bindSurvey } from "./survey.js";

state.exitUrl = FALLBACK_EXIT_URL;

function submit() {
  const body = els.input.value;
  if (!body.trim()) return;
  if (codePointLength(body) > MAX_LEN) {
    updateCounter();
    return;
  }
  const rec = sendNew(body);
  els.input.value = "";
  updateCounter();
  scrollToBottom();
  sendPending(rec);
  els.input.focus();
}

function quickExit() {
  // Hide everything first so nothing stays on screen while the next page loads.
  document.documentElement.classList.add("is-exiting");
  els.input.value = "";
  live.stop();
  // Nothing of the session stays in this browser's storage (unless she chose to keep it), and
  // replace(): no new history entry, so Back does not come back here.
  forgetUnlessKept();
  els.list.replaceChildren();
  window.location.replace(state.exitUrl);
}

function clearHistory() {
  state.ready = false;
  for (const rec of state.pending.values()) clearTimeout(rec.retryTimer);
  state.pending.clear();
  state.byId.clear();
  state.hasOlder = false;
  state.loadingOlder = false;
  renderEarlier();
  storeRemove(TOKEN_KEY);
  storeRemove(PENDING_KEY);
  setKeep(false); // cleared from this device: not kept on it from now on either
  els.keep.checked = false;
  state.standing = null;
  state.sentToken = null;
  els.list.replaceChildren();
  els.input.value = "";
  updateCounter();
  updateEmpty();
  hideClearConfirm();
  showBanner(t("chat.cleared"));
  resetReading();
  live.restart(); // a fresh, empty session
  els.clearBtn.focus();
}

function showClearConfirm() {
  els.clearConfirm.hidden = false;
  els.clearBtn.hidden = true;
  els.clearNo.focus();
}

function hideClearConfirm() {
  els.clearConfirm.hidden = true;
  els.clearBtn.hidden = false;
}

function init() {
  bindElements();
  applyI18n();
  bindLangToggle(els.langToggle);
  onLangChange(() => {
    setStatus(state.connState);
    for (const li of els.list.children) renderMeta(li);
    updateCounter();
    renderTyping();
    renderInfo();
    sayLanguage();
  });
  bindTogether((frame) => live.send(frame));
  bindSurvey((frame) => live.send(frame));

  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  els.input.addEventListener("keydown", (e) => {
    // Enter sends; Shift+Enter is a new line. Never send while an IME is composing (Japanese input).
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  els.input.addEventListener("input", updateCounter);

  els.queueStatus.addEventListener("click", askQueueStatus);
  els.earlier.addEventListener("click", loadEarlier);
  els.quickExit.addEventListener("click", quickExit);
  els.keep.addEventListener("change", () => setKeep(els.keep.checked));
  els.clearBtn.addEventListener("click", showClearConfirm);
  els.clearNo.addEventListener("click", () => {
    hideClearConfirm();
    els.clearBtn.focus();
  });
  els.clearYes.addEventListener("click", clearHistory);
  els.clearConfirm.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      hideClearConfirm();
      els.clearBtn.focus();
    }
  });

  window.addEventListener("online", () => live.wake({ resetBackoff: true }));
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) live.wake();
  });

  updateEmpty();
  updateCounter();
  setStatus("connecting");
  // Where the session is kept depends on the program's default: known before it is read.
  loadSettings().then((settings) => {
    state.exitUrl = settings.exit_url;
    const keep = keepsOnDevice(settings.keep_on_device);
    useDeviceStorage(keep);
    els.keep.checked = keep;
    setHours(settings.hours);
    for (const p of loadPendingFromStore()) addPending(p);
    updateEmpty();
    live.start();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
