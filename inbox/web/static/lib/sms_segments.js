// @ts-check
// How many SMS a text is sent as: the rules of inbox/core/sms.py count_segments, for the reply
// box. tests/sms/test_segments_parity.py runs the same cases (and compares the alphabets)
// through both, so the counter and the server cannot drift apart.
//
// GSM-7 (3GPP TS 23.038): 160 septets in one SMS, 153 per part of a longer one; an extension
// character (€ [ ] { } ...) is an escape plus itself, 2 septets, never split across parts. Any
// other text is UCS-2: 70 UTF-16 units in one, 67 per part; a character outside the BMP (most
// emoji) is a surrogate pair, 2 units, never split.

export const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
export const GSM7_EXTENSION = "\f^{}\\[~]|€";

export const GSM7_SINGLE = 160;
export const GSM7_PART = 153;
export const UCS2_SINGLE = 70;
export const UCS2_PART = 67;

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

/**
 * @typedef {object} Segments
 * @property {"gsm7" | "ucs2"} encoding
 * @property {number} units septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text
 * @property {number} count SMS messages it is sent as; an empty text is still one
 * @property {number} perSegment characters (units) one of them holds at this count
 */

/** @param {string} text */
export function isGsm7(text) {
  for (const c of text) if (!BASIC.has(c) && !EXTENSION.has(c)) return false;
  return true;
}

/**
 * How `text` is sent: its encoding, its length in units and its number of segments.
 * @param {string} text
 * @returns {Segments}
 */
export function countSegments(text) {
  const gsm = isGsm7(text);
  const [single, part] = gsm ? [GSM7_SINGLE, GSM7_PART] : [UCS2_SINGLE, UCS2_PART];
  /** @type {number[]} */
  const widths = [];
  for (const c of text) {
    // iterating a string yields code points: one outside the BMP is 2 UTF-16 units
    widths.push(gsm ? (EXTENSION.has(c) ? 2 : 1) : (c.codePointAt(0) ?? 0) > 0xffff ? 2 : 1);
  }
  const units = widths.reduce((a, b) => a + b, 0);
  const encoding = gsm ? "gsm7" : "ucs2";
  if (units <= single) return { encoding, units, count: 1, perSegment: single };
  let count = 1;
  let used = 0;
  for (const width of widths) {
    // fill parts; a 2-unit character never straddles two
    if (used + width > part) {
      count += 1;
      used = 0;
    }
    used += width;
  }
  return { encoding, units, count, perSegment: part };
}
