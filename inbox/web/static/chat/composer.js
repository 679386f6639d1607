// @ts-check
// The message box: its length counter (in code points, as the server counts) and its height.

import { t } from "../i18n.js";
import { els } from "./state.js";

export const MAX_LEN = 10000;
const COUNTER_FROM = 9000;

/** @param {string} s */
export function codePointLength(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function updateCounter() {
  const n = codePointLength(els.input.value);
  const over = n > MAX_LEN;
  if (over) {
    els.counter.textContent = t("chat.counterOver", { n: n - MAX_LEN, max: MAX_LEN });
  } else if (n >= COUNTER_FROM) {
    els.counter.textContent = t("chat.counter", { n: MAX_LEN - n });
  } else {
    els.counter.textContent = "";
  }
  els.counter.classList.toggle("is-over", over);
  els.input.setAttribute("aria-invalid", over ? "true" : "false");
  els.send.disabled = over || !els.input.value.trim();
  autoGrow();
}

function autoGrow() {
  const ta = els.input;
  ta.style.height = "auto";
  ta.style.height = `${Math.min(ta.scrollHeight + 2, Math.round(window.innerHeight * 0.35))}px`;
}
