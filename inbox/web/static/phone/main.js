// @ts-check
// Tsunagu Inbox — the phone desk (phone staff and supervisors): the callback list, the call
// screen with its outcome form, the calls waiting for an outcome, a call logged by hand, and
// her recent calls. The frame (sign-in,
// nav, language) is lib/staff_page.js; the server decides every permission.

import { byId } from "../lib/dom.js";
import { startStaffPage } from "../lib/staff_page.js";
import { bindCallbacks, onCallbackChosen, refreshCallbacks, renderCallbacks } from "./callbacks.js";
import { bindCallScreen, openCall, refreshOnScreen, renderCall } from "./call_screen.js";
import { relabelLive, startLive, stopLive } from "./live.js";
import { bindLogForm, renderLogForm } from "./log_form.js";
import { bindOutcomeForm, renderOutcomeForm, resetOutcomeForm } from "./outcome.js";
import { refreshRecent, renderRecent } from "./recent.js";
import { bindWaiting, refreshWaiting, renderWaiting } from "./waiting.js";
import { loadSettings } from "./settings.js";

const notice = byId("phone-notice", HTMLElement);

/** Say what the server answered (a call logged), where she will look. @param {string} words */
function tell(words) {
  notice.textContent = words;
  notice.focus();
  void refresh();
}

async function refresh() {
  await Promise.all([refreshCallbacks(), refreshWaiting(), refreshRecent()]);
  refreshOnScreen();
}

function onLangChange() {
  renderCallbacks();
  renderCall();
  renderOutcomeForm();
  renderLogForm();
  renderWaiting();
  renderRecent();
  relabelLive();
}

startStaffPage({
  roles: ["phone_staff", "supervisor"],
  onLangChange,
  onSignOut: stopLive,
  onSignedIn: async () => {
    await loadSettings();
    renderOutcomeForm();
    renderLogForm();
    bindCallbacks();
    bindCallScreen();
    bindWaiting();
    onCallbackChosen((item) => {
      resetOutcomeForm();
      void openCall(item);
    });
    bindOutcomeForm(tell);
    bindLogForm(tell);
    await refresh();
    startLive(refresh);
  },
});
