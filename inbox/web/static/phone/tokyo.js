// @ts-check
// The desk's clock is Tokyo's whatever the laptop's zone: the forms' date and time inputs are
// read and filled as Asia/Tokyo wall time (Japan has no daylight saving, so +09:00 always).

const TIME_ZONE = "Asia/Tokyo";
const OFFSET = "+09:00";

/**
 * `d` as Tokyo wall time, "YYYY-MM-DDTHH:MM" (a datetime-local input's value).
 * @param {Date} d
 */
export function tokyoLocal(d) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: TIME_ZONE,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** Today in Tokyo, "YYYY-MM-DD" (a date input's value). @param {Date} [d] */
export function tokyoToday(d = new Date()) {
  return tokyoLocal(d).slice(0, 10);
}

/**
 * A datetime-local value read as Tokyo wall time, as ISO-8601 with its offset; null if it is
 * not one.
 * @param {string} value
 * @returns {string | null}
 */
export function tokyoIso(value) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const iso = value.length === 16 ? `${value}:00${OFFSET}` : `${value}${OFFSET}`;
  return Number.isNaN(new Date(iso).getTime()) ? null : iso;
}

/** "YYYY-MM-DD" shown as a date in the page's language ("12/8" / "8 Dec"). @param {string} day @param {string} lang */
export function dayWords(day, lang) {
  const d = new Date(`${day}T12:00:00${OFFSET}`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(lang === "ja" ? "ja-JP" : "en-GB", {
    timeZone: TIME_ZONE,
    month: lang === "ja" ? "numeric" : "short",
    day: "numeric",
    weekday: "short",
  }).format(d);
}
