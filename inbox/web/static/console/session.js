// @ts-check
// The session's end, and the API call every view uses: a 401 ends the session, any other error
// is shown in the toast. What ending a session clears is registered with onSessionEnd() (main.js).

import { makeCall } from "../lib/api.js";
import { showToast } from "./header.js";
import { state } from "./state.js";

/** @type {Set<(infoKey: string) => void>} */
const endListeners = new Set();

/** @param {(infoKey: string) => void} fn called with the i18n key of what to tell at sign-in */
export function onSessionEnd(fn) {
  endListeners.add(fn);
}

/** The session is over (expired, signed out): back to the sign-in form. @param {string} infoKey */
export function endSession(infoKey) {
  if (!state.me) return;
  for (const fn of endListeners) fn(infoKey);
}

/** Like api(), but a 401 ends the session and any other error is shown; null on failure. */
export const call = makeCall({
  onUnauthorized: () => endSession("login.expired"),
  onError: showToast,
});
