// @ts-check
// --- desk: the words of tags and labels. GET /api/labels gives the configured tags and triage's
// labels with their words in Japanese and English, fetched once per session, so no screen shows a
// raw id such as `suicide_risk`; a free tag is shown as written.

import { getLang } from "../i18n.js";
import { api } from "../lib/api.js";

/**
 * @typedef {object} Label
 * @property {string} id
 * @property {string} ja
 * @property {string} en
 */

/**
 * @typedef {object} LabelBook
 * @property {Label[]} tags the tags a person chooses from, in the configured order
 * @property {Label[]} labels triage's and the system's, which people cannot remove
 * @property {number} max_tags
 * @property {number} max_tag_chars
 */

/** @type {LabelBook} */
const book = { tags: [], labels: [], max_tags: 20, max_tag_chars: 40 };
/** @type {Map<string, Label>} */
const byId = new Map();

/** Fetch the book (after sign-in); a failure leaves ids shown as they are. */
export async function loadLabels() {
  try {
    const data = await api("GET", "/api/labels");
    if (!data) return;
    book.tags = Array.isArray(data.tags) ? data.tags : [];
    book.labels = Array.isArray(data.labels) ? data.labels : [];
    book.max_tags = Number(data.max_tags) || book.max_tags;
    book.max_tag_chars = Number(data.max_tag_chars) || book.max_tag_chars;
    byId.clear();
    for (const l of [...book.tags, ...book.labels]) byId.set(l.id, l);
  } catch {
    /* the ids stay readable; the next sign-in tries again */
  }
}

/** The configured tags, to choose from. */
export function configuredTags() {
  return book.tags;
}

/** The limits of a conversation's tags. */
export function tagLimits() {
  return { maxTags: book.max_tags, maxChars: book.max_tag_chars };
}

/** @param {Label} l @returns {string} its word in the UI's language (else the other's) */
export function labelWord(l) {
  return (getLang() === "en" ? l.en || l.ja : l.ja || l.en) || l.id;
}

/** A tag or label as a person reads it. @param {string} id */
export function tagText(id) {
  const l = byId.get(id);
  return l ? labelWord(l) : id;
}

/** Whether triage or the system set it (people cannot remove those). @param {string} id */
export function isSystemTag(id) {
  return book.labels.some((l) => l.id === id);
}

/** Forget the book (the session ended). */
export function resetLabels() {
  book.tags = [];
  book.labels = [];
  byId.clear();
}
