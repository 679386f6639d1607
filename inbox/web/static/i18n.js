// @ts-check
// Tsunagu Inbox — strings and small helpers shared by every page.
// Japanese first; English available. All user-visible text lives here.

const LANG_KEY = "tsunagu.lang";
const TIME_ZONE = "Asia/Tokyo";

/** @typedef {"ja" | "en"} Lang */

/** @type {Record<Lang, Record<string, string>>} */
export const STRINGS = {
  ja: {
    "lang.toggle": "English",
    "lang.toggleAria": "Switch to English",

    // landing
    "index.title": "つなぐ",
    "index.heading": "つなぐ",
    "index.lead": "ひとりで抱えこまないで。話したいことがあれば、いつでも書いてください。",
    "index.chat": "相談する",
    "index.chatHint": "名前は要りません。匿名で相談できます。",
    "index.console": "相談員の方",
    "index.consoleHint": "スタッフ用のサインイン",
    "index.emergency": "命の危険があるときは 110番（警察）・119番（救急）へ。",

    // chat
    "chat.title": "つなぐ 相談チャット",
    "chat.heading": "つなぐ 相談チャット",
    "chat.quickExit": "すぐに閉じる",
    "chat.noticeLabel": "お知らせ",
    "chat.noticeAnon": "匿名でも大丈夫です・秘密は守られます。",
    "chat.noticeEmergency": "緊急のときは 110番（警察）・119番（救急）へ電話してください。",
    "chat.noticeSettingsSummary": "この端末について",
    "chat.noticeDevice":
      "ふだんは、このタブを閉じるとこの端末にやりとりは残りません。「この端末にやりとりを残す」を選ぶと、あとでこの端末から続きを見られます。家族と共有している端末では選ばないでください。「すぐに閉じる」を押すと、このページは別のページに替わり、戻るボタンでも戻りません。",
    "chat.status.connecting": "接続中…",
    "chat.status.connected": "接続しました",
    "chat.status.reconnecting": "再接続しています…",
    "chat.messagesLabel": "やりとり",
    "chat.empty":
      "ここに話したいことを書いてください。相談員が順番にお返事します。お返事まで時間がかかることがあります。",
    "chat.me": "あなた",
    "chat.counselor": "相談員",
    "chat.state.sending": "送信中…",
    "chat.state.sent": "送信済み",
    "chat.state.failed": "送信できませんでした",
    "chat.state.retry": "混みあっています。自動でもう一度送ります…",
    "chat.failedEdit": "入力欄に戻す",
    "chat.inputLabel": "メッセージ",
    "chat.inputPlaceholder": "メッセージを入力（Enterで送信、Shift+Enterで改行）",
    "chat.send": "送信",
    "chat.queueStatus": "待ち状況を確認",
    "chat.counter": "残り {n} 文字",
    "chat.counterOver": "{n} 文字多すぎます（最大 {max} 文字）",
    "chat.clear": "この端末の履歴を消す",
    "chat.clearConfirm": "この端末からやりとりの記録を消します。元に戻せません。よろしいですか？",
    "chat.clearYes": "消す",
    "chat.clearNo": "やめる",
    "chat.cleared": "この端末の履歴を消しました。",
    "chat.error.generic": "エラーが起きました。時間をおいてもう一度お試しください。",
    "chat.error.tooLarge": "長すぎるため送れませんでした。10000文字以内に分けて送ってください。",
    "chat.error.validation": "この内容は送れませんでした。",
    "chat.error.rateLimited": "続けて送られたため、少し待ってから自動でもう一度送ります…",
    "chat.error.dailyLimit": "今日はこれ以上送れません。明日また送ってください。",
    "chat.error.tooMany": "操作が続いたため休止しています。少し待ってからもう一度お試しください。",
    "chat.earlier": "以前のメッセージを読み込む",
    "chat.earlierLoading": "読み込み中…",
    "chat.hintKeys": "Enterで送信・Shift+Enterで改行",

    // console
    "console.title": "つなぐ 相談員コンソール",
    "console.heading": "つなぐ 相談員コンソール",
    "console.status.connecting": "接続中…",
    "console.status.connected": "リアルタイム更新中",
    "console.status.reconnecting": "再接続しています…",
    "console.status.offline": "未接続",
    "console.signout": "サインアウト",
    "console.signedInAs": "サインイン中: {name}",
    "login.heading": "相談員サインイン",
    "login.username": "ユーザー名",
    "login.password": "パスワード",
    "login.submit": "サインイン",
    "login.submitting": "サインインしています…",
    "login.required": "ユーザー名とパスワードを入力してください。",
    "login.badCredentials": "ユーザー名またはパスワードが違います。",
    "login.tooMany": "サインインの失敗が続いたため、しばらく受け付けません。{minutes}分ほど待ってからもう一度お試しください。",
    "login.expired": "セッションが切れました。もう一度サインインしてください。",
    "login.signedOut": "サインアウトしました。",
    "queue.heading": "受付一覧",
    "queue.filter": "表示",
    "queue.filter.all": "すべて",
    "queue.filter.mine": "自分の担当",
    "queue.filter.unassigned": "未割当",
    "queue.empty": "対応が必要な相談はありません。",
    "queue.refresh": "更新",
    "queue.mine": "自分の担当",
    "queue.priority": "優先",
    "queue.waitingFor": "受信から {d}",
    "queue.noInbound": "受信なし",
    "conv.empty": "左の一覧から相談を選んでください。",
    "conv.back": "一覧に戻る",
    "conv.loading": "読み込み中…",
    "conv.assignee": "担当",
    "conv.assignee.me": "自分",
    "conv.assignee.none": "未割当",
    "conv.assignee.other": "他の相談員（ID {id}）",
    "conv.claim": "自分の担当にする",
    "conv.close": "相談を終了する",
    "conv.messagesLabel": "やりとりの記録",
    "conv.noMessages": "まだメッセージはありません。",
    "conv.from.inbound": "相談者",
    "conv.from.outbound": "相談員",
    "conv.from.note": "内部メモ",
    "conv.author": "ID {id}",
    "conv.author.me": "自分",
    "conv.attachments": "添付ファイル",
    "conv.attachment.notStored": "サイズ上限を超えたため保存されていません",
    "conv.replyLabel": "返信",
    "conv.noteLabel": "内部メモ（相談者には送られません）",
    "conv.noteToggle": "内部メモとして保存する",
    "conv.replyPlaceholder": "相談者への返信を入力（Ctrl+Enterで送信）",
    "conv.notePlaceholder": "内部メモを入力（相談者には表示されません）",
    "conv.sendReply": "返信を送る",
    "conv.saveNote": "メモを保存",
    "conv.sending": "送信中…",
    "conv.tags": "タグ",
    "conv.created": "受付",
    "error.network": "サーバーに接続できませんでした。通信状態を確認してください。",
    "error.http": "エラーが起きました（{status}）。",
    "error.dismiss": "閉じる",

    "status.queued": "未対応",
    "status.assigned": "対応中",
    "status.waiting": "相談者の返信待ち",
    "status.closed": "終了",
    "channel.webchat": "Webチャット",
    "channel.mail": "メール",
    "channel.sms": "SMS",
    "channel.line": "LINE",
    "channel.phone": "電話",
    "delivery.received": "受信",
    "delivery.pending": "送信待ち",
    "delivery.sent": "送信済み",
    "delivery.failed": "送信失敗",
    "delivery.none": "",
    "role.counselor": "相談員",
    "role.supervisor": "スーパーバイザー",
    "role.phone_staff": "電話受付",
    "role.admin": "管理者",

    "dur.lessMinute": "1分未満",
    "dur.minutes": "{n}分",
    "dur.hours": "{h}時間{m}分",
    "dur.days": "{d}日{h}時間",

    // --- chat: quick exit, hours, where she stands, the end of a conversation
    "chat.quickExitHint": "このページをすぐに別のページに替えます。戻るボタンでも戻りません。",
    "chat.infoLabel": "受付時間と待ち状況",
    "chat.keep": "この端末にやりとりを残す",
    "chat.automatic": "自動メッセージ",
    "chat.dividerEnded": "ここで前の相談は終了しました",
    "chat.ended": "この相談は終了しました。",
    "chat.againAnytime": "また話したくなったら、いつでもここに書いてください。順番にお返事します。",
    "chat.againHours": "また話したくなったら、いつでもここに書いてください。{hours}",
    "chat.today": "今日 {time}",
    "chat.tomorrow": "明日 {time}",
    "chat.hoursAlways": "24時間受付",
    "chat.hoursWeekly": "受付時間: {weekly}",
    "chat.hoursWeeklyHolidays": "受付時間: {weekly}（祝日・年末年始はお休み）",
    "chat.hoursOpenUntil": "・ただいま受付中（{time}まで）",
    "chat.hoursNext": "・次の受付: {time}",
    "chat.nextOpeningUnknown": "次の受付時間",
    "chat.waitMinutes": "約{n}分",
    "chat.waitHours": "約{n}時間",
    "chat.standing.closedNow":
      "ただいま受付時間外です。メッセージは今送れます。お返事は{time}以降になります。",
    "chat.standing.withCounselor": "相談員が対応しています。",
    "chat.standing.paused":
      "ただいま新しい相談の受付を一時止めています。メッセージは届いています。再開しだいお返事します。",
    "chat.standing.outsideHours": "受付時間外のため、{time}以降に順番にお返事します。",
    "chat.standing.closed": "この相談は終了しました。",
    "chat.standing.arrived": "メッセージは届いています。相談員が順番にお返事します。",
    "chat.standing.queued": "あなたの順番は{n}番目です。相談員が順番にお返事します。",
    "chat.standing.queuedWait": "あなたの順番は{n}番目です（目安{wait}）。相談員が順番にお返事します。",
  },

  en: {
    "lang.toggle": "日本語",
    "lang.toggleAria": "日本語に切り替える",

    "index.title": "Tsunagu",
    "index.heading": "Tsunagu",
    "index.lead": "You don't have to carry it alone. Write to us whenever you want to talk.",
    "index.chat": "Start a chat",
    "index.chatHint": "No name needed. You can stay anonymous.",
    "index.console": "Staff sign-in",
    "index.consoleHint": "For counselors",
    "index.emergency": "If your life is in danger, call 110 (police) or 119 (ambulance).",

    "chat.title": "Tsunagu chat",
    "chat.heading": "Tsunagu chat",
    "chat.quickExit": "Quick exit",
    "chat.noticeLabel": "Notice",
    "chat.noticeAnon": "You can stay anonymous. What you write is kept confidential.",
    "chat.noticeEmergency": "In an emergency call 110 (police) / 119 (ambulance).",
    "chat.noticeSettingsSummary": "About this device",
    "chat.noticeDevice":
      "Normally nothing of this conversation stays on this device once you close the tab. Tick “Keep this conversation on this device” to come back to it later from here; do not on a shared device. “Quick exit” replaces this page with another one, and the Back button does not return here.",
    "chat.status.connecting": "Connecting…",
    "chat.status.connected": "Connected",
    "chat.status.reconnecting": "Reconnecting…",
    "chat.messagesLabel": "Conversation",
    "chat.empty":
      "Write whatever you would like to talk about. A counselor will reply in turn. A reply may take a while.",
    "chat.me": "You",
    "chat.counselor": "Counselor",
    "chat.state.sending": "Sending…",
    "chat.state.sent": "Sent",
    "chat.state.failed": "Could not be sent",
    "chat.state.retry": "Busy right now. Will try again automatically…",
    "chat.failedEdit": "Edit again",
    "chat.inputLabel": "Message",
    "chat.inputPlaceholder": "Type a message (Enter to send, Shift+Enter for a new line)",
    "chat.send": "Send",
    "chat.queueStatus": "Where am I in line?",
    "chat.counter": "{n} characters left",
    "chat.counterOver": "{n} characters too many (max {max})",
    "chat.clear": "Clear history from this device",
    "chat.clearConfirm": "This removes the conversation from this device. It cannot be undone. Continue?",
    "chat.clearYes": "Clear",
    "chat.clearNo": "Cancel",
    "chat.cleared": "The history was removed from this device.",
    "chat.error.generic": "Something went wrong. Please try again later.",
    "chat.error.tooLarge": "Too long to send. Please split it into parts of up to 10,000 characters.",
    "chat.error.validation": "This message could not be sent.",
    "chat.error.rateLimited": "Sent too quickly; it will be sent again automatically in a moment…",
    "chat.error.dailyLimit": "No more messages can be sent today. Please write again tomorrow.",
    "chat.error.tooMany": "Too many requests in a row. Please wait a moment and try again.",
    "chat.earlier": "Load earlier messages",
    "chat.earlierLoading": "Loading…",
    "chat.hintKeys": "Enter to send · Shift+Enter for a new line",

    "console.title": "Tsunagu counselor console",
    "console.heading": "Tsunagu console",
    "console.status.connecting": "Connecting…",
    "console.status.connected": "Live",
    "console.status.reconnecting": "Reconnecting…",
    "console.status.offline": "Offline",
    "console.signout": "Sign out",
    "console.signedInAs": "Signed in as {name}",
    "login.heading": "Staff sign-in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.submitting": "Signing in…",
    "login.required": "Enter your username and password.",
    "login.badCredentials": "Wrong username or password.",
    "login.tooMany": "Too many failed sign-ins. Please wait about {minutes} min and try again.",
    "login.expired": "Your session has ended. Please sign in again.",
    "login.signedOut": "You have signed out.",
    "queue.heading": "Queue",
    "queue.filter": "Show",
    "queue.filter.all": "All",
    "queue.filter.mine": "Mine",
    "queue.filter.unassigned": "Unassigned",
    "queue.empty": "Nothing needs attention right now.",
    "queue.refresh": "Refresh",
    "queue.mine": "Mine",
    "queue.priority": "Priority",
    "queue.waitingFor": "{d} since last message",
    "queue.noInbound": "No messages yet",
    "conv.empty": "Choose a conversation from the list.",
    "conv.back": "Back to list",
    "conv.loading": "Loading…",
    "conv.assignee": "Assignee",
    "conv.assignee.me": "Me",
    "conv.assignee.none": "Unassigned",
    "conv.assignee.other": "Another counselor (ID {id})",
    "conv.claim": "Assign to me",
    "conv.close": "Close conversation",
    "conv.messagesLabel": "Messages",
    "conv.noMessages": "No messages yet.",
    "conv.from.inbound": "Consulter",
    "conv.from.outbound": "Counselor",
    "conv.from.note": "Internal note",
    "conv.author": "ID {id}",
    "conv.author.me": "me",
    "conv.attachments": "Attachments",
    "conv.attachment.notStored": "not kept: over the size limit",
    "conv.replyLabel": "Reply",
    "conv.noteLabel": "Internal note (never sent to the consulter)",
    "conv.noteToggle": "Save as internal note",
    "conv.replyPlaceholder": "Write a reply to the consulter (Ctrl+Enter to send)",
    "conv.notePlaceholder": "Write an internal note (the consulter never sees it)",
    "conv.sendReply": "Send reply",
    "conv.saveNote": "Save note",
    "conv.sending": "Sending…",
    "conv.tags": "Tags",
    "conv.created": "Opened",
    "error.network": "Could not reach the server. Please check the connection.",
    "error.http": "Something went wrong ({status}).",
    "error.dismiss": "Dismiss",

    "status.queued": "Queued",
    "status.assigned": "Assigned",
    "status.waiting": "Waiting for consulter",
    "status.closed": "Closed",
    "channel.webchat": "Web chat",
    "channel.mail": "Email",
    "channel.sms": "SMS",
    "channel.line": "LINE",
    "channel.phone": "Phone",
    "delivery.received": "Received",
    "delivery.pending": "Pending",
    "delivery.sent": "Sent",
    "delivery.failed": "Failed",
    "delivery.none": "",
    "role.counselor": "Counselor",
    "role.supervisor": "Supervisor",
    "role.phone_staff": "Phone staff",
    "role.admin": "Admin",

    "dur.lessMinute": "<1 min",
    "dur.minutes": "{n} min",
    "dur.hours": "{h} h {m} min",
    "dur.days": "{d} d {h} h",

    // --- chat: quick exit, hours, where she stands, the end of a conversation
    "chat.quickExitHint": "Replaces this page with another one at once. The Back button does not return here.",
    "chat.infoLabel": "Opening hours and your place",
    "chat.keep": "Keep this conversation on this device",
    "chat.automatic": "Automatic message",
    "chat.dividerEnded": "The earlier conversation ended here",
    "chat.ended": "This conversation has ended.",
    "chat.againAnytime": "Whenever you want to talk again, write here. We answer in turn.",
    "chat.againHours": "Whenever you want to talk again, write here. {hours}",
    "chat.today": "today {time}",
    "chat.tomorrow": "tomorrow {time}",
    "chat.hoursAlways": "Open 24 hours",
    "chat.hoursWeekly": "Hours: {weekly}",
    "chat.hoursWeeklyHolidays": "Hours: {weekly} (closed on public holidays and at New Year)",
    "chat.hoursOpenUntil": "· Open now, until {time}",
    "chat.hoursNext": "· Next opening: {time}",
    "chat.nextOpeningUnknown": "our next opening",
    "chat.waitMinutes": "about {n} min",
    "chat.waitHours": "about {n} h",
    "chat.standing.closedNow": "We are closed now. You can write now; a counselor will answer from {time}.",
    "chat.standing.withCounselor": "A counselor is with you.",
    "chat.standing.paused":
      "New conversations are paused for the moment. Your message is here; we will answer as soon as we resume.",
    "chat.standing.outsideHours": "We are closed now; a counselor will answer in turn from {time}.",
    "chat.standing.closed": "This conversation has ended.",
    "chat.standing.arrived": "Your message has arrived. A counselor will answer in turn.",
    "chat.standing.queued": "You are number {n} in line. A counselor will answer in turn.",
    "chat.standing.queuedWait": "You are number {n} in line ({wait}). A counselor will answer in turn.",
  },
};

/** @param {string} key */
function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** @param {string} key @param {string} value */
function storageSet(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* private mode or storage disabled: keep going without it */
  }
}

/** @returns {Lang} */
function detectLang() {
  const saved = storageGet(LANG_KEY);
  if (saved === "ja" || saved === "en") return saved;
  const nav = (navigator.language || "").toLowerCase();
  return nav.startsWith("ja") ? "ja" : "en";
}

let current = detectLang();
/** @type {Set<(lang: Lang) => void>} */
const listeners = new Set();

export function getLang() {
  return current;
}

/**
 * Translate `key`, filling `{name}` placeholders from `params`. Unknown keys fall back to Japanese, then the key.
 * @param {string} key
 * @param {Record<string, unknown>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const table = STRINGS[current] || STRINGS.ja;
  let s = key in table ? table[key] : key in STRINGS.ja ? STRINGS.ja[key] : key;
  for (const [k, v] of Object.entries(params)) {
    s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

/**
 * Apply translations to every element under `root` carrying data-i18n* attributes.
 * @param {ParentNode} [root]
 */
export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.getAttribute("data-i18n") || "");
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(el.getAttribute("data-i18n-placeholder") || ""));
  }
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.getAttribute("data-i18n-aria-label") || ""));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.setAttribute("title", t(el.getAttribute("data-i18n-title") || ""));
  }
  const titleKey = document.documentElement.dataset.i18nDocTitle;
  if (titleKey) document.title = t(titleKey);
}

/** @param {string} lang "ja" or "en"; anything else is ignored */
export function setLang(lang) {
  if (lang !== "ja" && lang !== "en") return;
  current = lang;
  storageSet(LANG_KEY, lang);
  applyI18n();
  for (const fn of listeners) fn(lang);
}

/** @param {(lang: Lang) => void} fn called after every language change */
export function onLangChange(fn) {
  listeners.add(fn);
}

/**
 * Wire a language toggle button: its label names the other language.
 * The label is written in the language it switches to, so it reads naturally for the person who needs it.
 * @param {HTMLElement} button
 */
export function bindLangToggle(button) {
  const render = () => {
    button.textContent = t("lang.toggle");
    button.setAttribute("aria-label", t("lang.toggleAria"));
    button.lang = current === "ja" ? "en" : "ja";
  };
  button.addEventListener("click", () => setLang(current === "ja" ? "en" : "ja"));
  onLangChange(render);
  render();
}

/**
 * Parse an ISO-8601 timestamp from the server; a value without a zone is taken as UTC.
 * @param {string | null | undefined} iso
 * @returns {Date | null}
 */
export function parseTime(iso) {
  if (!iso) return null;
  let s = String(iso);
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s = s.replace(" ", "T") + "Z";
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

function locale() {
  return current === "ja" ? "ja-JP" : "en-GB";
}

/** @param {Date} d */
function tokyoDayKey(d) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: TIME_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(d);
}

/**
 * Short time in Asia/Tokyo: "21:04" today, "3/14 21:04" on other days, with the year when it differs.
 * @param {Date | string | null | undefined} iso
 */
export function formatTime(iso) {
  const d = iso instanceof Date ? iso : parseTime(iso);
  if (!d) return "";
  const now = new Date();
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (tokyoDayKey(d) !== tokyoDayKey(now)) {
    opts.month = current === "ja" ? "numeric" : "short";
    opts.day = "numeric";
    const y = (/** @type {Date} */ x) => new Intl.DateTimeFormat("en", { timeZone: TIME_ZONE, year: "numeric" }).format(x);
    if (y(d) !== y(now)) opts.year = "numeric";
  }
  return new Intl.DateTimeFormat(locale(), opts).format(d);
}

/**
 * Full date and time in Asia/Tokyo, for a title/tooltip.
 * @param {Date | string | null | undefined} iso
 */
export function formatFullTime(iso) {
  const d = iso instanceof Date ? iso : parseTime(iso);
  if (!d) return "";
  return (
    new Intl.DateTimeFormat(locale(), {
      timeZone: TIME_ZONE,
      dateStyle: "medium",
      timeStyle: "short",
    }).format(d) + (current === "ja" ? "（日本時間）" : " JST")
  );
}

/** Human duration like "12分" / "3時間5分" / "2日4時間". @param {number} ms */
export function formatDuration(ms) {
  const mins = Math.max(0, Math.floor(ms / 60000));
  if (mins < 1) return t("dur.lessMinute");
  if (mins < 60) return t("dur.minutes", { n: mins });
  const hours = Math.floor(mins / 60);
  if (hours < 24) return t("dur.hours", { h: hours, m: mins % 60 });
  return t("dur.days", { d: Math.floor(hours / 24), h: hours % 24 });
}

/**
 * Localized label for an enum-ish value, e.g. label("status", "queued"); unknown values show as-is.
 * @param {string} group
 * @param {unknown} value
 */
export function label(group, value) {
  const key = `${group}.${value}`;
  const s = t(key);
  return s === key ? String(value ?? "") : s;
}

// Pages with no script of their own (the landing page) mark <html data-i18n-auto>:
// translate them and wire their #lang-toggle from here.
function autoInit() {
  if (!("i18nAuto" in document.documentElement.dataset)) return;
  applyI18n();
  const toggle = document.getElementById("lang-toggle");
  if (toggle) bindLangToggle(toggle);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoInit);
  else autoInit();
}
