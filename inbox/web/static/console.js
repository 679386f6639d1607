// Tsunagu Inbox — counselor console.
// Cookie session; every non-GET request carries X-Tsunagu-CSRF: 1 and a JSON content type.
// Live updates come over /api/ws, one frame per round of events ({type: "events", events: [...]},
// ids and kinds only); the console refetches what they concern, once per frame.
// User text is only ever rendered with textContent.

import {
  t,
  applyI18n,
  bindLangToggle,
  onLangChange,
  formatTime,
  formatFullTime,
  formatDuration,
  parseTime,
  label,
} from "./i18n.js";

const QUEUE_STATUSES = "queued,assigned,waiting";
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const TOAST_MS = 12000;

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["X-Tsunagu-CSRF"] = "1";
    init.headers["Content-Type"] = "application/json";
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const apiError = new ApiError(
      res.status,
      err.code || "http",
      err.message || t("error.http", { status: res.status }),
      err.field,
    );
    // Set on 429 and 503: how long the server asks us to wait.
    apiError.retryAfterS = Number(res.headers.get("Retry-After")) || null;
    throw apiError;
  }
  return data;
}

/** Like api(), but a 401 ends the session and any other error is shown; returns null on failure. */
async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      sessionEnded("login.expired");
      return null;
    }
    showToast(e.message || t("error.network"));
    return null;
  }
}

// ---------------------------------------------------------------- state

const els = {};
const state = {
  me: null,
  conversations: [],
  filter: "all",
  openId: null,
  conv: null,
  messageEls: new Map(), // message id -> li (for the open conversation)
  messageData: new Map(), // message id -> message object last rendered
  pendingFresh: false, // the open conversation has not been rendered yet
  drafts: new Map(), // conversation id -> {text, note}
  loadSeq: 0,
  sending: false,
};

let ws = null;
let wsAttempt = 0;
let wsTimer = null;
let wsWanted = false;
let wsEverOpened = false;
let connState = "offline";
let toastTimer = null;
let tickTimer = null;

// ---------------------------------------------------------------- small helpers

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function isMine(conv) {
  return !!state.me && conv.assignee_id !== null && conv.assignee_id !== undefined && String(conv.assignee_id) === String(state.me.id);
}

function showToast(text) {
  els.toastText.textContent = text;
  els.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, TOAST_MS);
}

function hideToast() {
  clearTimeout(toastTimer);
  els.toast.hidden = true;
  els.toastText.textContent = "";
}

function setConn(s) {
  connState = s;
  els.status.dataset.state = s;
  els.statusText.textContent = t(`console.status.${s}`);
}

function formatSize(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`;
  return `${(b / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Coalesce bursts of events into one run of `fn`, never two at once: it runs once `wait` ms pass
 * without another call, and at the latest `maxWait` ms after the first call it has not run for,
 * so a steady stream (an event every 50 ms, say) still refreshes about once a second.
 */
function coalesced(fn, wait = 120, maxWait = 1000) {
  let timer = null;
  let pendingSince = null;
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } finally {
      running = false;
      if (again) {
        again = false;
        run();
      }
    }
  };
  const fire = () => {
    pendingSince = null;
    run();
  };
  return () => {
    const now = performance.now();
    if (pendingSince === null) pendingSince = now;
    clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, Math.min(wait, pendingSince + maxWait - now)));
  };
}

// ---------------------------------------------------------------- views: login / app

function showLogin(infoKey) {
  els.appView.hidden = true;
  els.userBox.hidden = true;
  els.status.hidden = true;
  els.loginView.hidden = false;
  els.loginInfo.textContent = infoKey ? t(infoKey) : "";
  els.loginInfo.dataset.key = infoKey || "";
  els.loginError.hidden = true;
  els.loginPassword.value = "";
  els.loginSubmit.disabled = false;
  els.loginSubmit.textContent = t("login.submit");
  els.loginUsername.focus();
}

function resetApp() {
  stopWs();
  clearInterval(tickTimer);
  state.me = null;
  state.conversations = [];
  state.openId = null;
  state.conv = null;
  state.messageEls.clear();
  state.messageData.clear();
  state.drafts.clear();
  state.loadSeq++;
  els.queue.replaceChildren();
  els.convMessages.replaceChildren();
  els.convTitle.textContent = "";
  els.convMeta.replaceChildren();
  els.replyInput.value = "";
  els.noteToggle.checked = false;
  els.convView.hidden = true;
  els.convPlaceholder.hidden = false;
  document.body.classList.remove("show-conv");
  if (window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);
  setConn("offline");
}

function sessionEnded(infoKey) {
  if (!state.me) return;
  resetApp();
  showLogin(infoKey);
}

function renderUser() {
  const u = state.me;
  if (!u) return;
  els.userName.textContent = t("console.signedInAs", { name: u.display_name || u.username });
  const roles = Array.isArray(u.roles) ? u.roles : [];
  els.userRoles.textContent = roles.map((r) => label("role", r)).join("・");
}

async function signedIn(user) {
  state.me = user;
  els.loginView.hidden = true;
  els.appView.hidden = false;
  els.userBox.hidden = false;
  els.status.hidden = false;
  renderUser();
  hideToast();
  clearInterval(tickTimer);
  tickTimer = setInterval(renderQueue, 30000); // keep waiting times current
  const fromHash = /^#\/c\/(\d+)$/.exec(window.location.hash);
  await loadQueue();
  if (fromHash) openConversation(Number(fromHash[1]), { focus: false });
  startWs();
}

async function onLoginSubmit(e) {
  e.preventDefault();
  const username = els.loginUsername.value.trim();
  const password = els.loginPassword.value;
  els.loginError.hidden = true;
  if (!username || !password) {
    els.loginError.textContent = t("login.required");
    els.loginError.hidden = false;
    (!username ? els.loginUsername : els.loginPassword).focus();
    return;
  }
  els.loginSubmit.disabled = true;
  els.loginSubmit.textContent = t("login.submitting");
  try {
    const data = await api("POST", "/api/session", { username, password });
    els.loginPassword.value = "";
    els.loginInfo.textContent = "";
    await signedIn(data.user);
  } catch (err) {
    els.loginError.textContent = loginErrorText(err);
    els.loginError.hidden = false;
    els.loginPassword.value = "";
    els.loginPassword.focus();
  } finally {
    els.loginSubmit.disabled = false;
    els.loginSubmit.textContent = t("login.submit");
  }
}

function loginErrorText(err) {
  if (!(err instanceof ApiError)) return err.message || t("error.network");
  if (err.code === "bad_credentials") return t("login.badCredentials");
  if (err.code === "too_many_attempts") {
    return t("login.tooMany", { minutes: Math.max(1, Math.ceil((err.retryAfterS || 60) / 60)) });
  }
  return err.message || t("error.network");
}

async function signOut() {
  stopWs();
  try {
    await api("DELETE", "/api/session");
  } catch {
    /* signing out locally all the same */
  }
  sessionEnded("login.signedOut");
}

// ---------------------------------------------------------------- queue

async function loadQueue() {
  if (!state.me) return;
  const data = await call("GET", `/api/conversations?status=${encodeURIComponent(QUEUE_STATUSES)}`);
  if (!data || !state.me) return;
  state.conversations = Array.isArray(data.conversations) ? data.conversations : [];
  renderQueue();
}

function filteredConversations() {
  const all = state.conversations;
  if (state.filter === "mine") return all.filter(isMine);
  if (state.filter === "unassigned") return all.filter((c) => c.assignee_id === null || c.assignee_id === undefined);
  return all;
}

function renderQueue() {
  if (!state.me) return;
  const focusedId =
    document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.conversationId
      : undefined;
  const list = filteredConversations();
  const now = Date.now();
  const frag = document.createDocumentFragment();
  for (const c of list) {
    const li = el("li", "queue-row");
    const btn = el("button", "queue-item");
    btn.type = "button";
    btn.setAttribute("data-testid", "queue-item");
    btn.dataset.conversationId = String(c.id);
    btn.dataset.status = c.status;
    if (String(c.id) === String(state.openId)) btn.setAttribute("aria-current", "true");
    if (isMine(c)) btn.classList.add("is-mine");

    const top = el("span", "qi-top");
    top.append(el("span", "qi-alias", c.contact_alias || `#${c.id}`));
    if (Number(c.priority) > 0) top.append(el("span", "badge badge-priority", t("queue.priority")));
    if (isMine(c)) top.append(el("span", "badge badge-mine", t("queue.mine")));

    const mid = el("span", "qi-mid");
    mid.append(
      el("span", "qi-channel", label("channel", c.channel)),
      el("span", "qi-sep", "・"),
      el("span", `qi-status status-${c.status}`, label("status", c.status)),
    );

    const bottom = el("span", "qi-bottom");
    const since = parseTime(c.last_inbound_at);
    const wait = el("span", "qi-wait", since ? t("queue.waitingFor", { d: formatDuration(now - since.getTime()) }) : t("queue.noInbound"));
    if (since) wait.title = formatFullTime(since);
    bottom.append(wait);

    btn.append(top, mid, bottom);
    const tags = Array.isArray(c.tags) ? c.tags : [];
    if (tags.length) {
      const tagRow = el("span", "qi-tags");
      for (const tag of tags) tagRow.append(el("span", "tag", tag));
      btn.append(tagRow);
    }
    li.append(btn);
    frag.append(li);
  }
  els.queue.replaceChildren(frag);
  els.queueEmpty.hidden = list.length > 0;
  els.queueCount.textContent = state.conversations.length ? `(${state.conversations.length})` : "";
  if (focusedId !== undefined) {
    const again = els.queue.querySelector(`[data-conversation-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
}

function onQueueKeydown(e) {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  const items = [...els.queue.querySelectorAll(".queue-item")];
  const i = items.indexOf(document.activeElement);
  if (i < 0) return;
  e.preventDefault();
  const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))];
  next.focus();
}

// ---------------------------------------------------------------- conversation

function saveDraft() {
  if (state.openId === null) return;
  state.drafts.set(state.openId, { text: els.replyInput.value, note: els.noteToggle.checked });
}

async function openConversation(id, { focus = true } = {}) {
  if (state.openId !== null && state.openId !== id) saveDraft();
  const fresh = state.openId !== id;
  state.openId = id;
  history.replaceState(null, "", `#/c/${id}`);
  document.body.classList.add("show-conv");
  for (const b of els.queue.querySelectorAll(".queue-item")) {
    if (b.dataset.conversationId === String(id)) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  }
  if (fresh) {
    state.conv = null;
    state.pendingFresh = true;
    state.messageEls.clear();
    state.messageData.clear();
    els.convMessages.replaceChildren();
    els.convTitle.textContent = t("conv.loading");
    els.convMeta.replaceChildren();
    els.convPlaceholder.hidden = true;
    els.convView.hidden = false;
    els.convView.dataset.conversationId = String(id);
    const d = state.drafts.get(id);
    els.replyInput.value = d ? d.text : "";
    els.noteToggle.checked = d ? d.note : false;
    renderComposerMode();
  }
  await reloadConversation({ fresh });
  if (focus && state.openId === id) els.convTitle.focus();
}

async function reloadConversation({ fresh = false } = {}) {
  const id = state.openId;
  if (id === null) return;
  const seq = ++state.loadSeq;
  let data;
  try {
    data = await api("GET", `/api/conversations/${encodeURIComponent(id)}`);
  } catch (e) {
    if (seq !== state.loadSeq) return;
    if (e instanceof ApiError && e.status === 401) {
      sessionEnded("login.expired");
      return;
    }
    showToast(e.message);
    if (e instanceof ApiError && e.status === 404) closeConversationView();
    return;
  }
  if (seq !== state.loadSeq || state.openId !== id || !data) return;
  state.conv = data.conversation;
  renderConversationHead();
  renderMessages(Array.isArray(data.messages) ? data.messages : [], fresh || state.pendingFresh);
  state.pendingFresh = false;
}

function closeConversationView() {
  saveDraft();
  state.openId = null;
  state.conv = null;
  state.messageEls.clear();
  state.messageData.clear();
  els.convMessages.replaceChildren();
  els.convView.hidden = true;
  els.convPlaceholder.hidden = false;
  document.body.classList.remove("show-conv");
  history.replaceState(null, "", window.location.pathname + window.location.search);
  for (const b of els.queue.querySelectorAll(".queue-item")) b.removeAttribute("aria-current");
}

function assigneeText(conv) {
  if (conv.assignee_id === null || conv.assignee_id === undefined) return t("conv.assignee.none");
  if (isMine(conv)) return t("conv.assignee.me");
  return t("conv.assignee.other", { id: conv.assignee_id });
}

function renderConversationHead() {
  const c = state.conv;
  if (!c) return;
  els.convTitle.textContent = c.contact_alias || `#${c.id}`;
  els.convView.dataset.status = c.status;
  const parts = [
    el("span", "cm-channel", label("channel", c.channel)),
    el("span", `cm-status status-${c.status}`, label("status", c.status)),
    el("span", "cm-assignee", `${t("conv.assignee")}: ${assigneeText(c)}`),
  ];
  if (Number(c.priority) > 0) parts.push(el("span", "badge badge-priority", t("queue.priority")));
  const created = el("span", "cm-created", `${t("conv.created")}: ${formatTime(c.created_at)}`);
  created.title = formatFullTime(c.created_at);
  parts.push(created);
  const tags = Array.isArray(c.tags) ? c.tags : [];
  if (tags.length) {
    const tagRow = el("span", "cm-tags");
    tagRow.append(el("span", "visually-hidden", `${t("conv.tags")}: `));
    for (const tag of tags) tagRow.append(el("span", "tag", tag));
    parts.push(tagRow);
  }
  els.convMeta.replaceChildren(...parts);
  const closed = c.status === "closed";
  els.claimButton.hidden = closed || isMine(c);
  els.closeButton.hidden = closed;
}

function authorText(m) {
  if (m.author_id === null || m.author_id === undefined) return "";
  if (state.me && String(m.author_id) === String(state.me.id)) return t("conv.author.me");
  return t("conv.author", { id: m.author_id });
}

function fillMessage(li, m) {
  li.replaceChildren();
  const dir = m.direction;
  li.className = `cmsg cmsg-${dir}`;
  li.dataset.direction = dir;
  li.dataset.delivery = m.delivery_status || "none";

  const head = el("div", "cmsg-head");
  head.append(el("span", "cmsg-from", label("conv.from", dir)));
  const author = authorText(m);
  if (author && dir !== "inbound") head.append(el("span", "cmsg-author", `（${author}）`));
  const time = el("time", "cmsg-time", formatTime(m.created_at));
  time.dateTime = m.created_at || "";
  time.title = formatFullTime(m.created_at);
  head.append(time);
  if (dir === "outbound" && m.delivery_status && m.delivery_status !== "none") {
    head.append(el("span", `cmsg-delivery delivery-${m.delivery_status}`, label("delivery", m.delivery_status)));
  }
  li.append(head, el("p", "cmsg-body", m.body ?? ""));

  const atts = Array.isArray(m.attachments) ? m.attachments : [];
  if (atts.length) {
    const ul = el("ul", "cmsg-attachments");
    ul.setAttribute("aria-label", t("conv.attachments"));
    for (const a of atts) {
      const name = a.filename || a.name || "";
      const extra = [
        a.content_type,
        a.size_bytes !== undefined ? formatSize(a.size_bytes) : null,
        a.stored === false ? t("conv.attachment.notStored") : null,
      ].filter(Boolean).join(", ");
      const text = extra ? `${name} (${extra})` : name;
      const item = el("li", "cmsg-attachment");
      if (a.download_url) {
        const link = el("a", "cmsg-attachment-link", text);
        link.href = a.download_url;
        link.download = name;
        item.append(link);
      } else {
        item.textContent = text;
      }
      ul.append(item);
    }
    li.append(ul);
  }
}

function messageSignature(m) {
  return `${m.direction}|${m.delivery_status}|${m.body}|${(m.attachments || []).length}`;
}

/** Add a message to the open conversation, or update it in place if its content changed. */
function upsertMessage(m) {
  const key = String(m.id);
  const sig = messageSignature(m);
  let li = state.messageEls.get(key);
  if (li) {
    if (li.dataset.sig !== sig) {
      fillMessage(li, m);
      li.dataset.sig = sig;
    }
  } else {
    li = el("li");
    li.setAttribute("data-testid", "conv-message");
    li.dataset.messageId = key;
    fillMessage(li, m);
    li.dataset.sig = sig;
    state.messageEls.set(key, li);
    els.convMessages.append(li);
  }
  state.messageData.set(key, m);
}

/** Render the full message list of the open conversation (from a GET). */
function renderMessages(messages, fresh) {
  const list = els.convMessages;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  if (fresh) list.setAttribute("aria-live", "off"); // don't read the whole backlog aloud
  const seen = new Set();
  for (const m of messages) {
    seen.add(String(m.id));
    upsertMessage(m);
  }
  for (const [key, li] of state.messageEls) {
    if (!seen.has(key)) {
      li.remove();
      state.messageEls.delete(key);
      state.messageData.delete(key);
    }
  }
  els.convNoMsg.hidden = messages.length > 0;
  if (fresh || nearBottom) list.scrollTop = list.scrollHeight;
  if (fresh) requestAnimationFrame(() => list.setAttribute("aria-live", "polite"));
}

/** Re-render every shown message from memory (after a language change). */
function rerenderMessages() {
  for (const [key, li] of state.messageEls) {
    const m = state.messageData.get(key);
    if (m) fillMessage(li, m);
  }
}

// ---------------------------------------------------------------- actions

function renderComposerMode() {
  const note = els.noteToggle.checked;
  els.replyForm.classList.toggle("is-note", note);
  els.replyLabel.textContent = note ? t("conv.noteLabel") : t("conv.replyLabel");
  els.replyInput.setAttribute("placeholder", note ? t("conv.notePlaceholder") : t("conv.replyPlaceholder"));
  els.replySend.textContent = state.sending ? t("conv.sending") : note ? t("conv.saveNote") : t("conv.sendReply");
}

async function onReplySubmit(e) {
  e.preventDefault();
  if (state.sending || state.openId === null) return;
  const body = els.replyInput.value;
  if (!body.trim()) {
    els.replyInput.focus();
    return;
  }
  const id = state.openId;
  const note = els.noteToggle.checked;
  state.sending = true;
  els.replySend.disabled = true;
  renderComposerMode();
  const path = `/api/conversations/${encodeURIComponent(id)}/${note ? "notes" : "replies"}`;
  const data = await call("POST", path, { body });
  state.sending = false;
  els.replySend.disabled = false;
  renderComposerMode();
  if (!data) return; // the error is shown; the text stays in the box
  if (state.openId === id) {
    els.replyInput.value = "";
    // Stay in the mode the counselor chose (switching a note box to "reply" silently would be risky).
    state.drafts.set(id, { text: "", note });
    if (data.message && data.message.id !== undefined) {
      upsertMessage(data.message);
      els.convNoMsg.hidden = true;
    }
    els.convMessages.scrollTop = els.convMessages.scrollHeight;
    els.replyInput.focus();
  } else {
    state.drafts.delete(id);
  }
  refreshOpen();
  refreshQueue();
}

async function onClaim() {
  if (!state.conv || !state.me) return;
  const id = state.conv.id;
  els.claimButton.disabled = true;
  const data = await call("POST", `/api/conversations/${encodeURIComponent(id)}/assign`, { user_id: state.me.id });
  els.claimButton.disabled = false;
  if (data && data.conversation && state.openId === id) {
    state.conv = data.conversation;
    renderConversationHead();
  }
  refreshOpen();
  refreshQueue();
}

async function onClose() {
  if (!state.conv) return;
  const id = state.conv.id;
  els.closeButton.disabled = true;
  const data = await call("POST", `/api/conversations/${encodeURIComponent(id)}/close`, {});
  els.closeButton.disabled = false;
  if (data && data.conversation && state.openId === id) {
    state.conv = data.conversation;
    renderConversationHead();
  }
  refreshOpen();
  refreshQueue();
}

// ---------------------------------------------------------------- live updates

const refreshQueue = coalesced(loadQueue);
const refreshOpen = coalesced(() => reloadConversation());

function wsUrl() {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}/api/ws`;
}

function startWs() {
  wsWanted = true;
  wsAttempt = 0;
  wsEverOpened = false;
  openWs();
}

function stopWs() {
  wsWanted = false;
  clearTimeout(wsTimer);
  const old = ws;
  ws = null;
  if (old) {
    try {
      old.close(1000);
    } catch {
      /* ignore */
    }
  }
}

function openWs() {
  clearTimeout(wsTimer);
  if (!wsWanted || ws) return;
  setConn(wsEverOpened ? "reconnecting" : "connecting");
  let sock;
  try {
    sock = new WebSocket(wsUrl());
  } catch {
    scheduleWsReconnect();
    return;
  }
  ws = sock;
  sock.addEventListener("open", () => {
    if (sock !== ws) return;
    const wasReconnect = wsEverOpened || wsAttempt > 0;
    wsEverOpened = true;
    wsAttempt = 0;
    setConn("connected");
    // Events may have been missed while we were away: refetch everything.
    if (wasReconnect) {
      refreshQueue();
      refreshOpen();
    }
  });
  sock.addEventListener("message", (ev) => {
    if (sock !== ws) return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!msg || msg.type !== "events" || !Array.isArray(msg.events)) return;
    refreshQueue();
    if (state.openId !== null && msg.events.some((evt) => concernsOpen(evt))) {
      refreshOpen();
    }
  });
  sock.addEventListener("close", () => {
    if (sock !== ws) return;
    ws = null;
    if (wsWanted) scheduleWsReconnect();
  });
}

/** Whether an event of the feed is about the conversation open on screen. */
function concernsOpen(evt) {
  return Boolean(evt) && evt.conversation_id !== undefined && evt.conversation_id !== null && String(evt.conversation_id) === String(state.openId);
}

function scheduleWsReconnect() {
  setConn("reconnecting");
  clearTimeout(wsTimer);
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** wsAttempt);
  wsAttempt = Math.min(wsAttempt + 1, 10);
  const delay = Math.min(RECONNECT_MAX_MS, base * (0.75 + Math.random() * 0.5));
  wsTimer = setTimeout(async () => {
    if (!wsWanted) return;
    // A socket refused for a dead session would just loop: ask the server who we are first.
    try {
      await api("GET", "/api/me");
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        sessionEnded("login.expired");
        return;
      }
      scheduleWsReconnect(); // server unreachable: keep backing off
      return;
    }
    openWs();
  }, delay);
}

// ---------------------------------------------------------------- boot

async function init() {
  const $ = (id) => document.getElementById(id);
  Object.assign(els, {
    status: $("console-status"),
    userBox: $("user-box"),
    userName: $("user-name"),
    userRoles: $("user-roles"),
    toast: $("toast"),
    toastText: $("toast-text"),
    loginView: $("login-view"),
    loginForm: $("login-form"),
    loginInfo: $("login-info"),
    loginUsername: $("login-username"),
    loginPassword: $("login-password"),
    loginError: $("login-error"),
    loginSubmit: $("login-submit"),
    appView: $("app-view"),
    queue: $("queue"),
    queueEmpty: $("queue-empty"),
    queueCount: $("queue-count"),
    queueFilter: $("queue-filter"),
    convPlaceholder: $("conv-placeholder"),
    convView: $("conv-view"),
    convTitle: $("conv-title"),
    convMeta: $("conv-meta"),
    convMessages: $("conv-messages"),
    convNoMsg: $("conv-nomsg"),
    claimButton: $("claim-button"),
    closeButton: $("close-button"),
    replyForm: $("reply-form"),
    replyLabel: $("reply-label"),
    replyInput: $("reply-input"),
    replySend: $("reply-send"),
    noteToggle: $("note-toggle"),
  });
  els.statusText = els.status.querySelector(".conn-text");

  applyI18n();
  bindLangToggle($("lang-toggle"));
  onLangChange(() => {
    setConn(connState);
    if (els.loginInfo.dataset.key) els.loginInfo.textContent = t(els.loginInfo.dataset.key);
    if (!els.loginSubmit.disabled) els.loginSubmit.textContent = t("login.submit");
    renderUser();
    renderQueue();
    renderConversationHead();
    renderComposerMode();
    rerenderMessages();
  });

  els.loginForm.addEventListener("submit", onLoginSubmit);
  $("signout").addEventListener("click", signOut);
  $("toast-close").addEventListener("click", hideToast);
  $("queue-refresh").addEventListener("click", () => loadQueue());
  els.queueFilter.addEventListener("change", () => {
    state.filter = els.queueFilter.value;
    renderQueue();
  });
  els.queue.addEventListener("click", (e) => {
    const btn = e.target.closest(".queue-item");
    if (btn) openConversation(Number(btn.dataset.conversationId));
  });
  els.queue.addEventListener("keydown", onQueueKeydown);
  $("conv-back").addEventListener("click", () => {
    const id = state.openId;
    closeConversationView();
    const btn = id !== null && els.queue.querySelector(`[data-conversation-id="${CSS.escape(String(id))}"]`);
    if (btn) btn.focus();
  });
  els.claimButton.addEventListener("click", onClaim);
  els.closeButton.addEventListener("click", onClose);
  els.replyForm.addEventListener("submit", onReplySubmit);
  els.noteToggle.addEventListener("change", () => {
    renderComposerMode();
    saveDraft();
  });
  els.replyInput.addEventListener("input", saveDraft);
  els.replyInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing) {
      e.preventDefault();
      els.replyForm.requestSubmit();
    }
  });
  renderComposerMode();

  try {
    const data = await api("GET", "/api/me");
    if (data && data.user) await signedIn(data.user);
    else showLogin();
  } catch (e) {
    showLogin();
    if (!(e instanceof ApiError && e.status === 401)) showToast(e.message);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
