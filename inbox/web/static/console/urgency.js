// @ts-check
// Urgency that people see and hear: urgent conversations first in the queue, in words and in
// colour; a banner (role="alert") and, with her permission, a browser notification and an
// optional tone, to the assignee and to every signed-in supervisor, on a new urgent message
// (supervisors_alerted), a missed response target (deadline_breached) or an urgent conversation
// given to her; and the tab title counts what waits for her.
//
// The staff feed tells every staff socket of every event (ids, kinds, an alert's category); the
// queue the console fetches after each frame says which conversations she may see and whose they
// are, so a banner is decided against it: a counselor hears only of her own conversations.
// A notification carries the consulter's alias and the kind of alert, never a message's text.

import { isSystemTag, tagText } from "./labels.js";
import { t } from "../i18n.js";
import { el } from "../lib/dom.js";
import { state, els, isMine } from "./state.js";

/** @typedef {import("./types.js").Conversation} Conversation */
/** @typedef {import("./types.js").FeedEvent} FeedEvent */
/** @typedef {"alert" | "breach" | "assigned"} AlertKind */

/**
 * @typedef {object} Banner
 * @property {number} conversationId
 * @property {AlertKind} kind
 * @property {string | null} reason the urgency category, or a rule's alert ("rules:...")
 * @property {HTMLElement} node
 */

const SOUND_KEY = "tsunagu.console.sound";
const MAX_BANNERS = 5; // older ones go: a wall of alerts is read by nobody

/** Events heard but not yet matched against a fresh queue. @type {{ id: number, kind: AlertKind, reason: string | null }[]} */
let pending = [];
/** Shown banners, newest first. @type {Banner[]} */
let banners = [];
/** @type {(id: number) => void} */
let openConversation = () => {};
/** @type {AudioContext | null} */
let audio = null;

/** Whether the signed-in staff member supervises (hears of every conversation's alerts). */
function supervises() {
  const roles = state.me && Array.isArray(state.me.roles) ? state.me.roles : [];
  return roles.includes("supervisor");
}

/**
 * The urgency category in words ("自殺の危険" / "Suicide risk"), from the same labels the tags
 * are shown with (GET /api/labels, so a program's own categories have their words too); rules'
 * alerts and an unlabelled category in general words.
 * @param {string | null | undefined} reason
 */
export function urgencyText(reason) {
  if (!reason) return t("urgency.generic");
  if (reason.startsWith("rules:")) return t("urgency.rules");
  return isSystemTag(reason) ? tagText(reason) : t("urgency.generic");
}

/** Whether a conversation is urgent (triage gave it a category). @param {Conversation} c */
export function isUrgent(c) {
  return typeof c.urgency === "string" && c.urgency !== "";
}

/** Urgent conversations first, the rest in the server's order (priority, then waiting time). @param {Conversation[]} list */
export function urgentFirst(list) {
  return [...list.filter(isUrgent), ...list.filter((c) => !isUrgent(c))];
}

/** The tags worth showing beside the urgency badge: not "urgent" nor the category again. @param {Conversation} c */
export function shownTags(c) {
  const tags = Array.isArray(c.tags) ? c.tags : [];
  return tags.filter((tag) => tag !== "urgent" && tag !== c.urgency);
}

/** The badge for an urgent conversation: words and colour, never colour alone. @param {Conversation} c */
export function urgencyBadge(c) {
  const badge = el("span", "badge badge-urgent", t("urgency.badge", { category: urgencyText(c.urgency) }));
  badge.setAttribute("data-testid", "urgency-badge");
  return badge;
}

/** How many conversations wait for her: hers that await an answer, and for a supervisor the unassigned ones. */
export function waitingForMe() {
  return state.conversations.filter((c) => {
    if (isMine(c)) return c.status === "assigned" || c.status === "queued";
    const unassigned = c.assignee_id === null || c.assignee_id === undefined;
    return supervises() && unassigned && c.status === "queued";
  }).length;
}

/** The tab title: "(3) つなぐ 相談員コンソール", or the plain title when nothing waits. */
export function renderTitle() {
  const n = state.me ? waitingForMe() : 0;
  document.title = n > 0 ? t("urgent.title", { n, title: t("console.title") }) : t("console.title");
}

/** Note the feed's events that may call for a banner; they are decided after the next queue fetch. @param {FeedEvent[]} events */
export function noteEvents(events) {
  for (const evt of events) {
    const id = Number(evt.conversation_id);
    if (!Number.isFinite(id) || id <= 0) continue;
    const reason = typeof evt.reason === "string" ? evt.reason : null;
    if (evt.kind === "supervisors_alerted") pending.push({ id, kind: "alert", reason });
    else if (evt.kind === "deadline_breached") pending.push({ id, kind: "breach", reason: null });
    else if (evt.kind === "conversation_assigned") pending.push({ id, kind: "assigned", reason: null });
  }
}

/** After the queue was fetched: a banner for each noted event that concerns her. */
export function queueLoaded() {
  renderTitle();
  const noted = pending;
  pending = [];
  for (const p of noted) {
    const conv = state.conversations.find((c) => Number(c.id) === p.id);
    if (!conv) continue; // not hers to see
    const concerns = supervises() || isMine(conv);
    if (!concerns) continue;
    if (p.kind === "assigned" && !(isMine(conv) && isUrgent(conv))) continue;
    const reason = p.reason || conv.urgency || null;
    // supervisors hear of the alert itself; the assignee also hears her urgent assignment
    if (p.kind === "assigned" && banners.some((b) => b.conversationId === p.id && b.kind === "alert")) continue;
    raise(conv, p.kind, reason);
  }
}

/** @param {AlertKind} kind @param {string | null} reason @param {string} alias */
function bannerText(kind, reason, alias) {
  if (kind === "breach") return t("urgent.breach", { alias });
  if (kind === "assigned") return t("urgent.assigned", { alias, category: urgencyText(reason) });
  return t("urgent.alert", { alias, category: urgencyText(reason) });
}

/** @param {AlertKind} kind @param {string | null} reason */
function kindText(kind, reason) {
  return kind === "breach" ? t("urgent.kind.breach") : urgencyText(reason);
}

/** @param {Conversation} conv @param {AlertKind} kind @param {string | null} reason */
function raise(conv, kind, reason) {
  const alias = conv.contact_alias || `#${conv.id}`;
  const same = banners.find((b) => b.conversationId === conv.id && b.kind === kind);
  if (same) dismiss(same);
  const node = el("div", `urgent-banner urgent-${kind}`);
  node.setAttribute("role", "alert");
  node.setAttribute("data-testid", "urgent-banner");
  node.dataset.conversationId = String(conv.id);
  node.dataset.kind = kind;
  const text = el("span", "urgent-text", bannerText(kind, reason, alias));
  const open = el("button", "btn btn-small urgent-open", t("urgent.open"));
  open.type = "button";
  open.setAttribute("data-testid", "urgent-open");
  const close = el("button", "btn btn-small btn-quiet urgent-dismiss", t("urgent.dismiss"));
  close.type = "button";
  close.setAttribute("data-testid", "urgent-dismiss");
  close.setAttribute("aria-label", t("urgent.dismissAria", { alias }));
  node.append(text, open, close);
  /** @type {Banner} */
  const banner = { conversationId: conv.id, kind, reason, node };
  open.addEventListener("click", () => {
    dismiss(banner);
    openConversation(conv.id);
  });
  close.addEventListener("click", () => dismiss(banner));
  banners.unshift(banner);
  while (banners.length > MAX_BANNERS) dismiss(banners[banners.length - 1]);
  els.urgentBanners.prepend(node);
  notify(alias, kindText(kind, reason), conv.id);
  if (soundOn()) beep();
}

/** @param {Banner} banner */
function dismiss(banner) {
  banner.node.remove();
  banners = banners.filter((b) => b !== banner);
}

/** Re-word the banners in the language just chosen. */
export function renderBanners() {
  for (const b of banners) {
    const conv = state.conversations.find((c) => c.id === b.conversationId);
    const alias = conv && conv.contact_alias ? conv.contact_alias : `#${b.conversationId}`;
    const text = b.node.querySelector(".urgent-text");
    if (text) text.textContent = bannerText(b.kind, b.reason, alias);
    const open = b.node.querySelector(".urgent-open");
    if (open) open.textContent = t("urgent.open");
    const close = b.node.querySelector(".urgent-dismiss");
    if (close) {
      close.textContent = t("urgent.dismiss");
      close.setAttribute("aria-label", t("urgent.dismissAria", { alias }));
    }
  }
  renderAlertControls();
  renderTitle();
}

/** Forget every banner and what was noted (the session ended). */
export function resetUrgency() {
  for (const b of [...banners]) dismiss(b);
  pending = [];
  document.title = t("console.title");
}

// --- browser notifications: asked for from a click, never on load ---------------------------

function notificationsSupported() {
  return typeof window !== "undefined" && "Notification" in window;
}

/** @param {string} alias @param {string} kind @param {number} id */
function notify(alias, kind, id) {
  if (!notificationsSupported() || Notification.permission !== "granted") return;
  try {
    // alias and the kind of alert only: a notification may show on a shared screen
    const n = new Notification(t("urgent.notifyTitle"), { body: `${alias}・${kind}`, tag: `tsunagu-${id}` });
    n.onclick = () => {
      window.focus();
      openConversation(id);
      n.close();
    };
  } catch {
    /* some browsers allow notifications only from a service worker: the banner stays */
  }
}

async function askNotifications() {
  if (!notificationsSupported()) return;
  try {
    await Notification.requestPermission();
  } finally {
    renderAlertControls();
  }
}

// --- the optional tone: off by default, generated here, nothing downloaded -------------------

function soundOn() {
  try {
    return window.localStorage.getItem(SOUND_KEY) === "on";
  } catch {
    return false;
  }
}

/** @param {boolean} on */
function setSound(on) {
  try {
    window.localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    /* not remembered: on for this page only */
  }
}

/** Two short tones (0.15 s each), quiet; the AudioContext is made from the toggle's click. */
function beep() {
  const Ctx = window.AudioContext;
  if (!Ctx) return;
  try {
    audio = audio || new Ctx();
    const ctx = audio;
    for (const [i, freq] of [880, 660].entries()) {
      const start = ctx.currentTime + i * 0.2;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.15);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.16);
    }
  } catch {
    /* no audio device: the banner and the title still tell */
  }
}

/** The header's two controls, in the words of the current state. */
export function renderAlertControls() {
  const button = els.notifyButton;
  if (!notificationsSupported()) {
    button.hidden = true;
  } else {
    const permission = Notification.permission;
    button.hidden = permission === "granted";
    button.disabled = permission === "denied";
    button.textContent = permission === "denied" ? t("urgent.notifyBlocked") : t("urgent.notifyEnable");
  }
  els.soundToggle.checked = soundOn();
}

/**
 * Wire the header's controls; a banner's button opens its conversation with `onOpen`.
 * @param {(id: number) => void} onOpen
 */
export function bindUrgency(onOpen) {
  openConversation = onOpen;
  els.notifyButton.addEventListener("click", () => {
    void askNotifications();
  });
  els.soundToggle.addEventListener("change", () => {
    const on = els.soundToggle.checked;
    setSound(on);
    if (on) {
      const Ctx = window.AudioContext;
      if (Ctx) {
        audio = audio || new Ctx();
        void audio.resume();
      }
      beep(); // she hears what she turned on
    }
    renderAlertControls();
  });
  renderAlertControls();
}
