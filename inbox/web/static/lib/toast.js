// @ts-check
// The page's toast (#toast with #toast-text): an error shown for a while, on the console and the
// staff pages alike.

import { byId } from "./dom.js";

const TOAST_MS = 12000;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/** Show an error in the page's toast. @param {string} text */
export function showToast(text) {
  byId("toast-text", HTMLElement).textContent = text;
  byId("toast", HTMLElement).hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, TOAST_MS);
}

export function hideToast() {
  clearTimeout(toastTimer);
  byId("toast", HTMLElement).hidden = true;
  byId("toast-text", HTMLElement).textContent = "";
}
