// @ts-check
// The call screen for one callback: FIRST, when she asked for discretion, the warning (no
// voicemail, do not name the program), before any number or any way to call; then how to call:
// through the desk where Twilio Voice is set up (the staff member's own phone rings first, and
// she never sees the number), else her number, shown as the server allows (lib/reveal.js: a
// pseudonymous number needs a reason, audited). The outcome form below it is outcome.js.
// The desk's call is followed until it ends (GET /api/calls/{id} every 2 s); then the outcome
// form records THAT call (PATCH). The screen also opens for a call that waits for an outcome
// (waiting.js): then it shows that call, and the form records it.

import { t, formatTime } from "../i18n.js";
import { api, ApiError } from "../lib/api.js";
import { byId, el } from "../lib/dom.js";
import { bindRevealDialog, loadContact } from "../lib/reveal.js";
import { toSignIn } from "../lib/staff_page.js";
import { list, renderCallbacks, whenWords, windowWords } from "./callbacks.js";
import { settings } from "./settings.js";

/** @typedef {import("./callbacks.js").Callback} Callback */
/**
 * A call of GET /api/calls/{id} or /api/calls?open=1: never her number.
 * @typedef {object} LiveCall
 * @property {number} id
 * @property {"inbound" | "outbound"} direction
 * @property {string} started_at
 * @property {number | null} duration_s
 * @property {boolean} withheld
 * @property {string | null} outcome
 * @property {number | null} conversation
 * @property {string | null} contact_alias
 * @property {string} [status]
 * @property {boolean} [ended]
 */

const POLL_MS = 2000;
const POLL_DEADLINE_MS = 2 * 60 * 60 * 1000; // a call longer than this is followed no more
// The desk phone she chose last on this device (an id of the server's desk_phones list: the
// server rings only those, never a number typed here).
const STAFF_NUMBER_KEY = "tsunagu.phone.deskPhone";
// What a dial's refusal says, by the server's code (the others: the server's words).
/** @type {Record<string, string>} */
const DIAL_ERRORS = {
  outside_call_window: "phone.dialOutsideWindow",
  callback_taken: "phone.dialTaken",
  no_phone_number: "phone.dialNoNumber",
  call_failed: "phone.dialFailed",
};
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
  staffField: byId("call-staff-field", HTMLElement),
  staffNumber: byId("call-staff-number", HTMLSelectElement),
  outcomeForm: byId("outcome-form", HTMLFormElement),
  outcomeDuration: byId("outcome-duration-field", HTMLElement),
};

/**
 * The outcome form records a stored call ("call": Twilio knows how long it lasted, so no
 * minutes are asked) or logs a new one on the callback ("new").
 * @param {"call" | "new"} mode
 */
function formMode(mode) {
  els.outcomeForm.dataset.mode = mode;
  els.outcomeDuration.hidden = mode === "call";
}

/**
 * The callback on screen. `startedAt`: when she started the call (dialled, or was shown the
 * number), for the log; `number`: shown to her, kept only while this screen is open;
 * `voiceOff`: the desk's call turned out not to be set up; `said`: what the last try to call said;
 * `call`: the desk's call placed from this screen, as last polled (its outcome form is a PATCH).
 * @type {{item: Callback, contact: Contact | null, startedAt: Date | null, number: string | null, voiceOff: boolean, said: () => string, call: LiveCall | null} | null}
 */
let current = null;
/** A call that waits for an outcome, chosen from that list (the screen shows it, no callback). @type {LiveCall | null} */
let waiting = null;
let seq = 0;
/** @type {ReturnType<typeof bindRevealDialog> | null} */
let dialog = null;

/** The callback on screen, or null. */
export function onScreen() {
  return current;
}

/**
 * The stored call the outcome form records (PATCH /api/calls/{id}), or null: the form logs a
 * new call on the callback (POST). Before the desk's call ended there is none to record.
 * @returns {LiveCall | null}
 */
export function callOnScreen() {
  if (waiting) return waiting;
  return current?.call?.ended ? current.call : null;
}

/** The desk phone she chose last on this device. */
function rememberedNumber() {
  try {
    return window.localStorage.getItem(STAFF_NUMBER_KEY) || "";
  } catch {
    return ""; // storage disabled: she chooses each time
  }
}

/** @param {string} id */
function rememberNumber(id) {
  try {
    window.localStorage.setItem(STAFF_NUMBER_KEY, id);
  } catch {
    /* storage disabled: nothing kept */
  }
}

/** The desk phones to ring first, as options ("携帯 (••••6666)"), her last choice chosen. */
function renderDeskPhones() {
  const chosen = els.staffNumber.value || rememberedNumber();
  els.staffNumber.replaceChildren(
    ...settings.deskPhones.map((p) => {
      const option = el("option", "", `${p.label} (${p.number})`);
      option.value = String(p.id);
      return option;
    }),
  );
  if (settings.deskPhones.some((p) => String(p.id) === chosen)) els.staffNumber.value = chosen;
}

/** @param {Callback} item */
export async function openCall(item) {
  const mine = ++seq;
  waiting = null;
  current = { item, contact: null, startedAt: null, number: null, voiceOff: false, said: () => "", call: null };
  ageFor(false);
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

/**
 * Open the screen for a call that waits for an outcome: the form records it.
 * @param {LiveCall} c
 */
export function openWaitingCall(c) {
  seq++;
  current = null;
  waiting = c;
  ageFor(c.withheld);
  list.selected = null;
  renderCallbacks();
  delete els.screen.dataset.conversationId;
  els.screen.dataset.callId = String(c.id);
  renderCall();
  els.screen.hidden = false;
  els.screen.scrollIntoView({ block: "start" });
  els.screen.focus({ preventScroll: true });
}

/**
 * --- casework: the outcome form asks her age group unless the call was withheld (no contact to
 * keep it on).
 * @param {boolean} withheld
 */
function ageFor(withheld) {
  const field = document.getElementById("outcome-age-field");
  const select = document.getElementById("outcome-age");
  if (field) field.hidden = withheld;
  if (select instanceof HTMLSelectElement) select.disabled = withheld;
}

/** Close the call screen (logged, or she closed it); her place goes back to the list. */
export function closeCall() {
  seq++;
  const id = current?.item.conversation;
  const callId = waiting?.id;
  current = null;
  waiting = null;
  delete els.screen.dataset.callId;
  dialog?.close();
  list.selected = null;
  els.screen.hidden = true;
  els.number.textContent = "";
  renderCallbacks();
  const back =
    id !== undefined
      ? document.querySelector(`[data-testid="callback-${id}"]`)
      : callId !== undefined
        ? document.querySelector(`[data-testid="waiting-open-${callId}"]`)
        : null;
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

/** A call's facts: when, in or out, how long. @param {LiveCall} c */
function callFacts(c) {
  /** @type {[string, string][]} */
  const rows = [
    [t("phone.fact.started"), formatTime(c.started_at)],
    [t("phone.direction"), t(`phone.${c.direction}`)],
    [t("phone.fact.length"), t("phone.minutes", { n: Math.max(0, Math.round((Number(c.duration_s) || 0) / 60)) })],
  ];
  return rows.flatMap(([k, v]) => [el("dt", "", k), el("dd", "", v)]);
}

/** The screen for a call chosen from those waiting for an outcome. @param {LiveCall} c */
function renderWaiting(c) {
  const who = c.withheld ? t("phone.withheld") : c.contact_alias || t("phone.noNumberLogged");
  els.heading.textContent = t("phone.waitingHeading", { who });
  els.discretion.hidden = true;
  els.facts.replaceChildren(...callFacts(c));
  els.dial.hidden = els.reveal.hidden = els.number.hidden = els.staffField.hidden = true;
  els.number.textContent = els.said.textContent = "";
  els.outcomeForm.hidden = false;
  formMode("call");
}

export function renderCall() {
  if (waiting) return renderWaiting(waiting);
  if (!current) return;
  const { item, contact } = current;
  els.heading.textContent = t("phone.callHeading", { alias: item.contact_alias });
  // the warning first: from the list's row at once, or from her contact once it is read
  els.discretion.hidden = !(item.discretion || (contact && contact.discretion));
  els.facts.replaceChildren(...facts());
  const viaNumber = !settings.voice || current.voiceOff;
  // while the desk's call is on, nothing to log yet (its outcome form opens when it ends); once
  // it ended, the form records that call
  const placed = current.call;
  els.outcomeForm.hidden = !!placed && !placed.ended;
  formMode(placed?.ended ? "call" : "new");
  els.dial.hidden = viaNumber || !!placed;
  els.staffField.hidden = viaNumber || !!placed;
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

/** What a call's state says while it is followed. @param {LiveCall} c */
function progressWords(c) {
  if (c.ended) return t("phone.callEnded");
  if (c.status === "in-progress" || c.status === "answered") return t("phone.onCall");
  return t("phone.ringingYou");
}

/** @param {number} ms */
const pause = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * Follow the desk's call `callId` on this screen until it ends (then the outcome form is for
 * it), the screen moves on, or the deadline passes.
 * @param {number} callId
 * @param {number} mine the screen's sequence number when the call was placed
 */
async function follow(callId, mine) {
  const deadline = Date.now() + POLL_DEADLINE_MS;
  while (mine === seq && Date.now() < deadline) {
    await pause(POLL_MS);
    if (mine !== seq || !current) return;
    let found;
    try {
      found = await api("GET", `/api/calls/${encodeURIComponent(callId)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return toSignIn();
      continue; // the network or the server, for a moment: the next poll tries again
    }
    if (mine !== seq || !current || !found || !found.call) return;
    /** @type {LiveCall} */
    const c = found.call;
    current.call = c;
    say(() => progressWords(c));
    if (c.ended) {
      els.outcomeForm.querySelector("input")?.focus();
      return;
    }
  }
  if (mine === seq && current) say(() => t("phone.callLost"));
}

async function dial() {
  if (!current) return;
  const id = current.item.conversation;
  const mine = seq;
  const staffNumber = els.staffNumber.value;
  els.staffNumber.removeAttribute("aria-invalid");
  if (!staffNumber) {
    els.staffNumber.setAttribute("aria-invalid", "true");
    say(() => t("phone.staffNumberNeeded"));
    els.staffNumber.focus();
    return;
  }
  els.dial.disabled = true;
  try {
    const placed = await api("POST", `/api/conversations/${encodeURIComponent(id)}/dial`, {
      staff_number: Number(staffNumber),
    });
    rememberNumber(staffNumber);
    if (mine !== seq || !current) return;
    current.startedAt = new Date();
    const callId = Number(placed && placed.call);
    current.call = {
      id: callId,
      direction: "outbound",
      started_at: current.startedAt.toISOString(),
      duration_s: null,
      withheld: false,
      outcome: null,
      conversation: id,
      contact_alias: current.item.contact_alias,
      status: "queued",
      ended: false,
    };
    say(() => t("phone.ringingYou"));
    els.screen.focus({ preventScroll: true });
    void follow(callId, mine);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return toSignIn();
    if (mine !== seq || !current) return;
    if (e instanceof ApiError && e.code === "voice_not_configured") {
      // no Twilio Voice after all: her number, as the server allows, is the way left
      current.voiceOff = true;
      say(() => t("phone.voiceOff"));
      const contact = await loadContact(id).catch(() => null);
      if (mine !== seq || !current) return;
      current.contact = contact;
      renderCall();
      // the button she pressed is gone: her place goes to the way left, else to the screen
      (els.reveal.hidden ? els.screen : els.reveal).focus();
      return;
    }
    if (e instanceof ApiError && e.field === "staff_number") {
      els.staffNumber.setAttribute("aria-invalid", "true");
      say(() => t("phone.staffNumberBad"));
      els.staffNumber.focus();
      return;
    }
    const key = e instanceof ApiError ? DIAL_ERRORS[e.code] : undefined;
    const message = (e instanceof Error && e.message) || t("error.network");
    say(() => (key ? t(key) : message));
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
  renderDeskPhones();
  els.dial.addEventListener("click", () => void dial());
  els.reveal.addEventListener("click", () => void showNumber());
  els.close.addEventListener("click", closeCall);
}
