// @ts-check
// The call screen for one callback: FIRST, when she asked for discretion, the warning (no
// voicemail, do not name the program), before any number or any way to call; then how to call:
// through the desk where Twilio Voice is set up (the staff member's own phone rings first, and
// she never sees the number), else her number, shown as the server allows (lib/reveal.js: a
// pseudonymous number needs a reason, audited). The outcome form below it is outcome.js.

import { t, formatTime } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { bindRevealDialog, loadContact } from "../lib/reveal.js";
import { toSignIn } from "../lib/staff_page.js";
import { list, renderCallbacks, whenWords, windowWords } from "./callbacks.js";
import { settings } from "./settings.js";

/** @typedef {import("./callbacks.js").Callback} Callback */
/** @typedef {import("../lib/reveal.js").Contact} Contact */

const els = {
  screen: byId("call-screen", HTMLElement),
  heading: byId("call-heading", HTMLElement),
  discretion: byId("call-discretion", HTMLElement),
  facts: byId("call-facts", HTMLElement),
  dial: byId("call-dial", HTMLButtonElement),
  reveal: byId("call-reveal", HTMLButtonElement),
  number: byId("call-number", HTMLElement),
  said: byId("call-said", HTMLElement),
  close: byId("call-close", HTMLButtonElement),
};

/**
 * The callback on screen. `startedAt`: when she started the call (dialled, or was shown the
 * number), for the log; `number`: shown to her, kept only while this screen is open;
 * `voiceOff`: the desk's call turned out not to be set up; `said`: what the last try to call said.
 * @type {{item: Callback, contact: Contact | null, startedAt: Date | null, number: string | null, voiceOff: boolean, said: () => string} | null}
 */
let current = null;
let seq = 0;
/** @type {ReturnType<typeof bindRevealDialog> | null} */
let dialog = null;

/** The callback on screen, or null. */
export function onScreen() {
  return current;
}

/** @param {Callback} item */
export async function openCall(item) {
  const mine = ++seq;
  current = { item, contact: null, startedAt: null, number: null, voiceOff: false, said: () => "" };
  list.selected = item.conversation;
  renderCallbacks();
  els.screen.dataset.conversationId = String(item.conversation);
  renderCall();
  els.screen.hidden = false;
  els.screen.scrollIntoView({ block: "start" });
  els.screen.focus({ preventScroll: true });
  if (settings.voice) return;
  let contact = null;
  try {
    contact = await loadContact(item.conversation);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return toSignIn();
  }
  if (mine !== seq || !current) return;
  current.contact = contact;
  renderCall();
}

/** Close the call screen (logged, or she closed it); her place goes back to the list. */
export function closeCall() {
  seq++;
  const id = current?.item.conversation;
  current = null;
  dialog?.close();
  list.selected = null;
  els.screen.hidden = true;
  els.number.textContent = "";
  renderCallbacks();
  const back = id === undefined ? null : document.querySelector(`[data-testid="callback-${id}"]`);
  if (back instanceof HTMLElement) back.focus();
}

/** Keep the item fresh from the list (tries, window) while the screen is open. */
export function refreshOnScreen() {
  if (!current) return;
  const id = current.item.conversation;
  const fresh = list.items.find((c) => c.conversation === id);
  if (fresh) current.item = fresh;
  renderCall();
}

function facts() {
  if (!current) return [];
  const item = current.item;
  /** @type {[string, string][]} */
  const rows = [
    [t("phone.fact.when"), whenWords(item)],
    [t("phone.fact.window"), windowWords(item.window)],
    [t("phone.fact.tries"), t("phone.triesN", { n: Number(item.tries) || 0 })],
  ];
  if (item.due_at) rows.push([t("phone.fact.due"), formatTime(item.due_at)]);
  return rows.flatMap(([k, v]) => [el("dt", "", k), el("dd", "", v)]);
}

export function renderCall() {
  if (!current) return;
  const { item, contact } = current;
  els.heading.textContent = t("phone.callHeading", { alias: item.contact_alias });
  // the warning first: from the list's row at once, or from her contact once it is read
  els.discretion.hidden = !(item.discretion || (contact && contact.discretion));
  els.facts.replaceChildren(...facts());
  const viaNumber = !settings.voice || current.voiceOff;
  els.dial.hidden = viaNumber;
  const canShow = !!contact && (typeof contact.address === "string" || contact.revealable === true);
  els.reveal.hidden = !viaNumber || !canShow || current.number !== null;
  els.number.hidden = current.number === null;
  els.number.textContent = current.number === null ? "" : t("phone.numberShown", { number: current.number });
  const said = [current.said()];
  if (viaNumber && contact && !canShow && current.number === null) said.push(t("phone.noNumber"));
  els.said.textContent = said.filter(Boolean).join(" ");
}

/** Say `text` (a function: in the page's language at each redraw) under the buttons. @param {() => string} text */
function say(text) {
  if (!current) return;
  current.said = text;
  renderCall();
}

async function dial() {
  if (!current) return;
  const id = current.item.conversation;
  els.dial.disabled = true;
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(id)}/dial`, {});
    if (current?.item.conversation !== id) return;
    current.startedAt = new Date();
    say(() => t("phone.dialing"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return toSignIn();
    if (current?.item.conversation !== id) return;
    if (e instanceof ApiError && e.code === "voice_not_configured") {
      // no Twilio Voice after all: her number, as the server allows, is the way left
      current.voiceOff = true;
      say(() => t("phone.voiceOff"));
      const contact = await loadContact(id).catch(() => null);
      if (current?.item.conversation !== id) return;
      current.contact = contact;
      renderCall();
      // the button she pressed is gone: her place goes to the way left, else to the screen
      (els.reveal.hidden ? els.screen : els.reveal).focus();
      return;
    }
    const message = (e instanceof Error && e.message) || t("error.network");
    say(() => message);
  } finally {
    els.dial.disabled = false;
  }
}

async function showNumber() {
  if (!current || !current.contact || !dialog) return;
  const id = current.item.conversation;
  let number = current.contact.address;
  if (typeof number !== "string") {
    const got = await dialog.ask(id); // a reason first; the server audits the reveal
    if (!got) return;
    number = got.address;
  }
  if (current?.item.conversation !== id) return;
  current.number = number;
  current.startedAt = new Date();
  renderCall();
  els.number.focus();
}

export function bindCallScreen() {
  dialog = bindRevealDialog({ onUnauthorized: toSignIn });
  els.dial.addEventListener("click", () => void dial());
  els.reveal.addEventListener("click", () => void showNumber());
  els.close.addEventListener("click", closeCall);
}
