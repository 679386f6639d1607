// @ts-check
// The service as her chat shows it: the program's settings (quick-exit target, whether "keep on
// this device" starts ticked, the web chat's hours) from GET /chat/settings, and the words for
// the hours, the next opening and where she stands, in her language, from the server's data.

import { t, getLang } from "../i18n.js";

/**
 * The web chat's hours as the server sends them (inbox/web/queue_status.py hours_json).
 * @typedef {object} Hours
 * @property {boolean} always_open
 * @property {string} timezone e.g. "Asia/Tokyo"
 * @property {boolean} open_now
 * @property {string | null} next_opening ISO 8601 with offset; null: never open again
 * @property {string | null} closes_at when it closes, if open now
 * @property {string[][][]} weekly Monday first; each day's windows as ["HH:MM", "HH:MM"]
 * @property {boolean} closed_on_holidays
 */

/**
 * Where she stands (the queue_status answer, also in the welcome).
 * @typedef {object} Standing
 * @property {"none" | "queued" | "with_counselor" | "paused" | "outside_hours" | "closed"} state
 * @property {number | null} position her place in line, when she is in it
 * @property {number | null} wait_s an estimate, when there is one to give
 * @property {Hours} hours
 */

/**
 * @typedef {object} ChatSettings
 * @property {string} exit_url
 * @property {boolean} keep_on_device
 * @property {Hours | null} hours
 */

// Used until the settings arrive, and if they never do: quick exit must always work.
export const FALLBACK_EXIT_URL = "https://www.google.com/search?q=%E5%A4%A9%E6%B0%97";
const SETTINGS_TIMEOUT_MS = 3000;

/** @returns {Promise<ChatSettings>} */
export async function loadSettings() {
  const fallback = { exit_url: FALLBACK_EXIT_URL, keep_on_device: false, hours: null };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), SETTINGS_TIMEOUT_MS);
  try {
    const r = await fetch("/chat/settings", { signal: abort.signal, cache: "no-store" });
    if (!r.ok) return fallback;
    const got = await r.json();
    const exit = typeof got.exit_url === "string" && /^https?:\/\//.test(got.exit_url) ? got.exit_url : FALLBACK_EXIT_URL;
    return { exit_url: exit, keep_on_device: got.keep_on_device === true, hours: got.hours || null };
  } catch {
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}

const DAYS = {
  ja: ["月", "火", "水", "木", "金", "土", "日"],
  en: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
};

/** The weekly windows in words: "月–金 18:00–22:00、土 10:00–16:00". @param {Hours} hours */
function weeklyText(hours) {
  const names = getLang() === "ja" ? DAYS.ja : DAYS.en;
  /** @type {{first: number, last: number, windows: string}[]} */
  const groups = [];
  hours.weekly.forEach((day, i) => {
    if (!day.length) return;
    const windows = day.map(([start, end]) => `${start}–${end}`).join(", ");
    const last = groups[groups.length - 1];
    if (last && last.last === i - 1 && last.windows === windows) last.last = i;
    else groups.push({ first: i, last: i, windows });
  });
  const parts = groups.map((g) => {
    const days = g.first === g.last ? names[g.first] : `${names[g.first]}–${names[g.last]}`;
    return `${days} ${g.windows}`;
  });
  return parts.join(getLang() === "ja" ? "、" : "; ");
}

/** @param {Date} d @param {string} timeZone */
function dayKey(d, timeZone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

/**
 * A time of the service in its own zone, as she reads it: "今日 18:00", "明日 9:00",
 * "12月27日(月) 18:00" / "today 18:00", "Mon 27 Dec 18:00".
 * @param {string} iso @param {string} timeZone
 */
export function serviceTime(iso, timeZone) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const ja = getLang() === "ja";
  const clock = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
  const now = new Date();
  if (dayKey(d, timeZone) === dayKey(now, timeZone)) return t("chat.today", { time: clock });
  if (dayKey(d, timeZone) === dayKey(new Date(now.getTime() + 86400000), timeZone)) {
    return t("chat.tomorrow", { time: clock });
  }
  /** @type {Record<string, string>} */
  const p = {};
  const fmt = new Intl.DateTimeFormat(ja ? "ja-JP" : "en-GB", {
    timeZone,
    month: ja ? "numeric" : "short",
    day: "numeric",
    weekday: "short",
  });
  for (const part of fmt.formatToParts(d)) p[part.type] = part.value;
  return ja ? `${p.month}月${p.day}日(${p.weekday}) ${clock}` : `${p.weekday} ${p.day} ${p.month} ${clock}`;
}

/** The hours line of her chat's header. @param {Hours} hours */
export function hoursText(hours) {
  if (hours.always_open) return t("chat.hoursAlways");
  const weekly = weeklyText(hours);
  const base = t(hours.closed_on_holidays ? "chat.hoursWeeklyHolidays" : "chat.hoursWeekly", { weekly });
  if (hours.open_now && hours.closes_at) {
    return `${base} ${t("chat.hoursOpenUntil", { time: serviceTime(hours.closes_at, hours.timezone) })}`;
  }
  if (hours.next_opening) {
    return `${base} ${t("chat.hoursNext", { time: serviceTime(hours.next_opening, hours.timezone) })}`;
  }
  return base;
}

/** When someone will answer, if the chat is closed now. @param {Hours | null} hours */
function nextAnswer(hours) {
  if (!hours || !hours.next_opening) return t("chat.nextOpeningUnknown");
  return serviceTime(hours.next_opening, hours.timezone);
}

/** "約15分" / "about 15 min"; "" when there is no estimate. @param {number | null} s */
function waitText(s) {
  if (s === null || !Number.isFinite(s)) return "";
  const minutes = Math.max(5, Math.round(s / 300) * 5);
  return minutes < 120 ? t("chat.waitMinutes", { n: minutes }) : t("chat.waitHours", { n: Math.round(minutes / 60) });
}

/**
 * Her standing in words, or "" when there is nothing to say (she has not written, and the chat
 * is open).
 * @param {Standing} s
 */
export function standingText(s) {
  const hours = s.hours;
  switch (s.state) {
    case "none":
      return hours && !hours.always_open && !hours.open_now ? t("chat.standing.closedNow", { time: nextAnswer(hours) }) : "";
    case "with_counselor":
      return t("chat.standing.withCounselor");
    case "paused":
      return t("chat.standing.paused");
    case "outside_hours":
      return t("chat.standing.outsideHours", { time: nextAnswer(hours) });
    case "closed":
      return t("chat.standing.closed");
    case "queued": {
      if (!s.position) return t("chat.standing.arrived");
      const wait = waitText(s.wait_s);
      return wait
        ? t("chat.standing.queuedWait", { n: s.position, wait })
        : t("chat.standing.queued", { n: s.position });
    }
    default:
      return "";
  }
}

/** How to reach the service again, for the conversation-ended notice. @param {Hours | null} hours */
export function againText(hours) {
  if (!hours || hours.always_open) return t("chat.againAnytime");
  return t("chat.againHours", { hours: hoursText(hours) });
}
