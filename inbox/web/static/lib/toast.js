// @ts-check
// The page's toast (#toast with #toast-text): an error shown for a while, on the console and the
// staff pages alike; or, with {ok: true}, a piece of good news (a callback requested) in calmer
// colours (.toast-ok), so that it is not read as something that went wrong.

import { byId } from "./dom.js";

const TOAST_MS = 12000;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/**
 * Show an error (or, with ok, news) in the page's toast.
 * @param {string} text
 * @param {{ok?: boolean}} [opts]
 */
export function showToast(text, { ok = false } = {}) {
  byId("toast-text", HTMLElement).textContent = text;
  const toast = byId("toast", HTMLElement);
  toast.classList.toggle("toast-ok", ok);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, TOAST_MS);
}

export function hideToast() {
  clearTimeout(toastTimer);
  byId("toast", HTMLElement).hidden = true;
  byId("toast-text", HTMLElement).textContent = "";
}
