// Tsunagu Inbox — consulter web chat.
// No account: a token in localStorage resumes the session. Unacknowledged messages are kept
// in localStorage and resent with the same client_id (the server dedups by it).
// User text is only ever rendered with textContent.

import { t, applyI18n, bindLangToggle, onLangChange, formatTime, formatFullTime } from "./i18n.js";

const TOKEN_KEY = "tsunagu.chat.token";
const PENDING_KEY = "tsunagu.chat.pending";
const MAX_LEN = 10000;
const COUNTER_FROM = 9000;
const EXIT_URL = "https://www.google.com/search?q=weather";
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const BUSY_RETRY_MIN_MS = 2000;
const BUSY_RETRY_MAX_MS = 30000;

// ---------------------------------------------------------------- storage (with a memory fallback)

const memoryStore = new Map();

function storeGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return memoryStore.has(key) ? memoryStore.get(key) : null;
  }
}

function storeSet(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    memoryStore.set(key, value);
  }
}

function storeRemove(key) {
  memoryStore.delete(key);
  try {
    window.localStorage.removeItem(key);
  } catch {
    /* nothing to do */
  }
}

function loadPendingFromStore() {
  try {
    const raw = JSON.parse(storeGet(PENDING_KEY) || "[]");
    if (!Array.isArray(raw)) return [];
    return raw.filter(
      (p) => p && typeof p.client_id === "string" && typeof p.body === "string" && p.body.length > 0,
    );
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- state

const els = {};
/** client_id -> {client_id, body, created_at, li, retryDelay, retryTimer} for messages not yet acknowledged. */
const pending = new Map();
/** server message id -> li */
const byId = new Map();
/** li -> view data used to (re)render its meta line */
const view = new WeakMap();

let ws = null;
let ready = false; // true between "welcome" and close
let attempt = 0;
let reconnectTimer = null;
let sentToken = null;
let connState = "connecting";
// Older history: the welcome brings the latest page; older pages come on request.
let hasOlder = false;
let loadingOlder = false;

function persistPending() {
  const list = [...pending.values()].map((p) => ({
    client_id: p.client_id,
    body: p.body,
    created_at: p.created_at,
  }));
  if (list.length) storeSet(PENDING_KEY, JSON.stringify(list));
  else storeRemove(PENDING_KEY);
}

function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  // Non-secure contexts (plain http on a LAN address) have no randomUUID; build a v4 UUID by hand.
  const b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function codePointLength(s) {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line no-unused-vars
  return n;
}

// ---------------------------------------------------------------- rendering

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

function setStatus(state) {
  connState = state;
  els.status.dataset.state = state;
  els.statusText.textContent = t(`chat.status.${state}`);
}

function updateEmpty() {
  els.empty.hidden = els.list.children.length > 0;
}

function isNearBottom() {
  const m = els.scroller;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function scrollToBottom() {
  els.scroller.scrollTop = els.scroller.scrollHeight;
}

function renderMeta(li) {
  const v = view.get(li);
  if (!v) return;
  li.dataset.state = v.state;
  v.who.textContent = `${v.direction === "inbound" ? t("chat.me") : t("chat.counselor")}: `;
  v.time.textContent = formatTime(v.created_at);
  v.time.dateTime = v.created_at || "";
  v.time.title = formatFullTime(v.created_at);
  if (v.direction === "inbound") {
    let s = t(`chat.state.${v.state}`);
    if (v.state === "sending" && v.retrying) {
      s = t(v.retryCode === "rate_limited" ? "chat.error.rateLimited" : "chat.state.retry");
    }
    v.stateEl.textContent = s;
  } else {
    v.stateEl.textContent = "";
  }
  if (v.state === "failed") {
    v.errorEl.hidden = false;
    v.errorEl.dataset.code = v.errorCode || "";
    const key = {
      too_large: "chat.error.tooLarge",
      validation: "chat.error.validation",
      daily_limit: "chat.error.dailyLimit",
    }[v.errorCode];
    const detail = el("span", "msg-error-detail", v.error || "");
    v.errorEl.replaceChildren(t(key || "chat.error.generic"), detail);
    detail.hidden = !v.error;
    v.editBtn.hidden = false;
    v.editBtn.textContent = t("chat.failedEdit");
  } else {
    v.errorEl.hidden = true;
    v.editBtn.hidden = true;
  }
}

function createMessageEl({ direction, body, created_at, state }) {
  const li = document.createElement("li");
  li.className = `msg msg-${direction}`;
  li.setAttribute("data-testid", "chat-message");
  li.dataset.direction = direction;

  const who = document.createElement("span");
  who.className = "visually-hidden";

  const bubble = document.createElement("div");
  bubble.className = "bubble";
  const text = document.createElement("p");
  text.className = "msg-body";
  text.textContent = body;
  bubble.append(who, text);

  const meta = document.createElement("div");
  meta.className = "msg-meta";
  const time = document.createElement("time");
  const stateEl = document.createElement("span");
  stateEl.className = "msg-state";
  meta.append(time, stateEl);

  const errorEl = document.createElement("p");
  errorEl.className = "msg-error";
  errorEl.hidden = true;
  const editBtn = document.createElement("button");
  editBtn.type = "button";
  editBtn.className = "btn btn-small btn-quiet msg-edit";
  editBtn.hidden = true;
  editBtn.addEventListener("click", () => {
    // Put the text back into the input so nothing she wrote is lost, and drop the failed bubble.
    if (!els.input.value.trim()) els.input.value = body;
    li.remove();
    updateEmpty();
    updateCounter();
    els.input.focus();
  });

  li.append(bubble, meta, errorEl, editBtn);
  view.set(li, { direction, created_at, state, who, time, stateEl, errorEl, editBtn, retrying: false });
  renderMeta(li);
  return li;
}

/**
 * Insert a stored message in id order, before any message still being sent.
 * Failed local messages keep the place where she wrote them.
 */
function insertServerMessage(msg) {
  if (!msg || (typeof msg.id !== "number" && typeof msg.id !== "string")) return null;
  if (msg.direction !== "inbound" && msg.direction !== "outbound") return null; // never show anything else
  const id = Number(msg.id);
  if (byId.has(id)) return byId.get(id);
  const li = createMessageEl({
    direction: msg.direction,
    body: String(msg.body ?? ""),
    created_at: msg.created_at,
    state: "sent",
  });
  li.dataset.id = String(id);
  byId.set(id, li);

  let before = null;
  for (const child of els.list.children) {
    const later = child.dataset.id !== undefined && Number(child.dataset.id) > id;
    if (later || child.dataset.clientId !== undefined) {
      before = child;
      break;
    }
  }
  els.list.insertBefore(li, before);
  updateEmpty();
  return li;
}

function clearServerMessages() {
  for (const li of byId.values()) li.remove();
  byId.clear();
  hasOlder = false;
  renderEarlier();
  updateEmpty();
}

function oldestShownId() {
  let oldest = null;
  for (const id of byId.keys()) if (oldest === null || id < oldest) oldest = id;
  return oldest;
}

function renderEarlier() {
  const key = loadingOlder ? "chat.earlierLoading" : "chat.earlier";
  els.earlier.dataset.i18n = key;
  els.earlier.textContent = t(key);
  els.earlier.hidden = !hasOlder;
  els.earlier.setAttribute("aria-busy", loadingOlder ? "true" : "false");
}

function loadEarlier() {
  const before = oldestShownId();
  if (loadingOlder || before === null || !ready) return;
  if (!wsSend({ type: "history", before })) return;
  loadingOlder = true;
  renderEarlier();
}

function onHistory(msg) {
  const wasLoading = loadingOlder;
  loadingOlder = false;
  const messages = Array.isArray(msg.messages) ? msg.messages : [];
  // Keep what she was reading in place while older messages go in above it.
  const fromBottom = els.scroller.scrollHeight - els.scroller.scrollTop;
  els.list.setAttribute("aria-live", "off");
  for (const m of messages) insertServerMessage(m);
  requestAnimationFrame(() => els.list.setAttribute("aria-live", "polite"));
  els.scroller.scrollTop = els.scroller.scrollHeight - fromBottom;
  hasOlder = Boolean(msg.more);
  renderEarlier();
  // The button disappears after the last page: keep the keyboard focus near, on the list.
  if (wasLoading && !hasOlder && document.activeElement === document.body) els.list.focus();
}

function showBanner(text) {
  els.banner.textContent = text;
  els.banner.hidden = !text;
}

// ---------------------------------------------------------------- sending

function wsSend(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(obj));
    return true;
  }
  return false;
}

function sendPending(rec) {
  if (!ready) return;
  wsSend({ type: "message", client_id: rec.client_id, body: rec.body });
}

function addPending(rec) {
  const li = createMessageEl({ direction: "inbound", body: rec.body, created_at: rec.created_at, state: "sending" });
  li.dataset.clientId = rec.client_id;
  rec.li = li;
  rec.retryDelay = 0;
  rec.retryTimer = null;
  pending.set(rec.client_id, rec);
  els.list.append(li);
  updateEmpty();
}

function submit() {
  const body = els.input.value;
  if (!body.trim()) return;
  if (codePointLength(body) > MAX_LEN) {
    updateCounter();
    return;
  }
  const rec = { client_id: newClientId(), body, created_at: new Date().toISOString() };
  addPending(rec);
  persistPending();
  els.input.value = "";
  updateCounter();
  scrollToBottom();
  sendPending(rec);
  els.input.focus();
}

function onAck(msg) {
  const rec = pending.get(msg.client_id);
  if (!rec) return;
  clearTimeout(rec.retryTimer);
  pending.delete(msg.client_id);
  persistPending();
  const id = Number(msg.message_id);
  if (byId.has(id)) {
    // Already shown from history (stored before a reconnect): drop the local copy.
    rec.li.remove();
    updateEmpty();
    return;
  }
  const v = view.get(rec.li);
  v.state = "sent";
  v.retrying = false;
  rec.li.dataset.id = String(id);
  delete rec.li.dataset.clientId;
  byId.set(id, rec.li);
  renderMeta(rec.li);
}

function onError(msg) {
  const rec = msg.client_id ? pending.get(msg.client_id) : null;
  if (!rec) {
    if (loadingOlder) {
      loadingOlder = false; // the page she asked for was refused; the button stays
      renderEarlier();
    }
    // In her language, never the server's (English, technical) text.
    const banner = { rate_limited: "chat.error.tooMany", validation: "chat.error.validation" };
    showBanner(t(banner[msg.code] || "chat.error.generic"));
    return;
  }
  const v = view.get(rec.li);
  if (msg.code === "busy" || msg.code === "rate_limited") {
    // Keep it pending and try again later with the same client_id.
    clearTimeout(rec.retryTimer);
    rec.retryDelay = Math.min(BUSY_RETRY_MAX_MS, rec.retryDelay ? rec.retryDelay * 2 : BUSY_RETRY_MIN_MS);
    const delay = rec.retryDelay * (0.8 + Math.random() * 0.4);
    rec.retryTimer = setTimeout(() => sendPending(rec), delay);
    v.retrying = true;
    v.retryCode = msg.code;
    renderMeta(rec.li);
    return;
  }
  // validation, too_large, or anything else: it will not succeed as it is.
  clearTimeout(rec.retryTimer);
  pending.delete(rec.client_id);
  persistPending();
  delete rec.li.dataset.clientId;
  v.state = "failed";
  v.retrying = false;
  v.error = msg.message || "";
  v.errorCode = msg.code || "";
  renderMeta(rec.li);
}

// ---------------------------------------------------------------- connection

function wsUrl() {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}/chat/ws`;
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (ws) return;
  if (connState !== "reconnecting") setStatus("connecting");
  let sock;
  try {
    sock = new WebSocket(wsUrl());
  } catch {
    scheduleReconnect();
    return;
  }
  ws = sock;
  sock.addEventListener("open", () => {
    sentToken = storeGet(TOKEN_KEY) || null;
    sock.send(JSON.stringify({ type: "hello", token: sentToken }));
  });
  sock.addEventListener("message", (ev) => {
    if (sock !== ws) return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    handle(msg);
  });
  sock.addEventListener("close", () => {
    if (sock !== ws) return;
    ws = null;
    ready = false;
    loadingOlder = false; // unanswered: she may ask again once reconnected
    renderEarlier();
    for (const rec of pending.values()) clearTimeout(rec.retryTimer);
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  setStatus("reconnecting");
  clearTimeout(reconnectTimer);
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
  attempt = Math.min(attempt + 1, 10);
  const delay = Math.min(RECONNECT_MAX_MS, base * (0.75 + Math.random() * 0.5));
  reconnectTimer = setTimeout(connect, delay);
}

function onWelcome(msg) {
  if (typeof msg.token === "string" && msg.token) {
    if (sentToken && msg.token !== sentToken) clearServerMessages(); // a different (new) session
    storeSet(TOKEN_KEY, msg.token);
  }
  const follow = isNearBottom() || byId.size === 0;
  const messages = Array.isArray(msg.messages) ? msg.messages : [];
  const oldest = oldestShownId();
  // A reconnect's welcome repeats the latest page; older pages she loaded stay, and so does
  // whether there are more before them.
  if (oldest === null || messages.length === 0 || Number(messages[0].id) <= oldest) {
    hasOlder = Boolean(msg.more);
  }
  loadingOlder = false;
  // Add history quietly; aria-live should announce new messages, not the whole backlog.
  els.list.setAttribute("aria-live", "off");
  for (const m of messages) insertServerMessage(m);
  requestAnimationFrame(() => els.list.setAttribute("aria-live", "polite"));
  ready = true;
  attempt = 0;
  renderEarlier();
  setStatus("connected");
  showBanner("");
  if (follow) scrollToBottom();
  for (const rec of pending.values()) {
    const v = view.get(rec.li);
    v.retrying = false;
    rec.retryDelay = 0;
    renderMeta(rec.li);
    sendPending(rec);
  }
}

function handle(msg) {
  switch (msg && msg.type) {
    case "welcome":
      onWelcome(msg);
      break;
    case "ack":
      onAck(msg);
      break;
    case "history":
      onHistory(msg);
      break;
    case "error":
      onError(msg);
      break;
    case "queue_status": {
      // Only ever an answer to her own question: the status is never pushed unasked.
      els.queueText.textContent = msg.position ? msg.text : t("chat.queueNone");
      els.queueText.hidden = false;
      break;
    }
    case "message": {
      const follow = isNearBottom();
      const li = insertServerMessage(msg.message);
      if (li && follow) scrollToBottom();
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------- input, counter, safety controls

function updateCounter() {
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

function quickExit() {
  // Hide everything first so nothing stays on screen while the next page loads.
  document.documentElement.classList.add("is-exiting");
  els.input.value = "";
  try {
    if (ws) ws.close();
  } catch {
    /* leaving anyway */
  }
  window.location.replace(EXIT_URL);
}

function clearHistory() {
  const old = ws;
  ws = null;
  ready = false;
  if (old) {
    try {
      old.close();
    } catch {
      /* ignore */
    }
  }
  clearTimeout(reconnectTimer);
  for (const rec of pending.values()) clearTimeout(rec.retryTimer);
  pending.clear();
  byId.clear();
  hasOlder = false;
  loadingOlder = false;
  renderEarlier();
  storeRemove(TOKEN_KEY);
  storeRemove(PENDING_KEY);
  sentToken = null;
  els.list.replaceChildren();
  els.input.value = "";
  updateCounter();
  updateEmpty();
  hideClearConfirm();
  showBanner(t("chat.cleared"));
  attempt = 0;
  connect(); // a fresh, empty session
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

// ---------------------------------------------------------------- boot

function init() {
  els.list = document.getElementById("chat-messages");
  els.scroller = document.querySelector(".chat-main");
  els.empty = document.getElementById("chat-empty");
  els.banner = document.getElementById("chat-banner");
  els.status = document.getElementById("chat-status");
  els.statusText = els.status.querySelector(".conn-text");
  els.form = document.getElementById("composer");
  els.input = document.getElementById("chat-input");
  els.send = document.getElementById("chat-send");
  els.counter = document.getElementById("chat-counter");
  els.queueText = document.getElementById("queue-status-text");
  els.clearBtn = document.getElementById("clear-history");
  els.clearConfirm = document.getElementById("clear-confirm");
  els.clearNo = document.getElementById("clear-no");
  els.earlier = document.getElementById("chat-earlier");

  applyI18n();
  bindLangToggle(document.getElementById("lang-toggle"));
  onLangChange(() => {
    setStatus(connState);
    for (const li of els.list.children) renderMeta(li);
    updateCounter();
  });

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

  document.getElementById("queue-status").addEventListener("click", () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "queue_status" }));
  });
  els.earlier.addEventListener("click", loadEarlier);
  document.getElementById("quick-exit").addEventListener("click", quickExit);
  els.clearBtn.addEventListener("click", showClearConfirm);
  els.clearNo.addEventListener("click", () => {
    hideClearConfirm();
    els.clearBtn.focus();
  });
  document.getElementById("clear-yes").addEventListener("click", clearHistory);
  els.clearConfirm.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      hideClearConfirm();
      els.clearBtn.focus();
    }
  });

  window.addEventListener("online", () => {
    if (!ws) {
      attempt = 0;
      connect();
    }
  });
  window.addEventListener("pageshow", (e) => {
    if (e.persisted && !ws) connect();
  });

  for (const p of loadPendingFromStore()) addPending(p);
  updateEmpty();
  updateCounter();
  setStatus("connecting");
  connect();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
