// @ts-check
// --- casework: its words (GET /api/casework): the configured topics, the age groups and the
// activity kinds, each { id, ja, en }, fetched once per page and shown in the page's language.

import { getLang } from "../i18n.js";
import { api } from "./api.js";

/**
 * @typedef {object} Word
 * @property {string} id
 * @property {string} ja
 * @property {string} en
 */

/**
 * @typedef {object} CaseworkWords
 * @property {Word[]} topics
 * @property {Word[]} age_groups
 * @property {Word[]} activity_kinds
 * @property {number} max_place_chars
 */

/** @type {Promise<CaseworkWords | null> | null} */
let loading = null;
/** @type {CaseworkWords} */
const book = { topics: [], age_groups: [], activity_kinds: [], max_place_chars: 40 };

/** Fetch the words once (later calls share the first); an error leaves the lists empty. */
export function loadCaseworkWords() {
  if (!loading) {
    loading = api("GET", "/api/casework").then(
      (data) => {
        if (data && Array.isArray(data.topics)) Object.assign(book, data);
        return book;
      },
      () => {
        loading = null; // try again next time
        return null;
      },
    );
  }
  return loading;
}

/** The words as loaded (empty lists before). */
export function caseworkWords() {
  return book;
}

/** A word in the page's language. @param {Word} w */
export function wordOf(w) {
  return (getLang() === "en" ? w.en || w.ja : w.ja || w.en) || w.id;
}

/** The words of an id in a list, or the id. @param {Word[]} list @param {string} id */
export function wordFor(list, id) {
  const found = list.find((w) => w.id === id);
  return found ? wordOf(found) : id;
}

/**
 * Checkbox chips for the topics, in `box` (a fieldset): one labelled checkbox each, checked as
 * `chosen` says, each with data-testid "topic-<id>" under `prefix`.
 * @param {HTMLElement} box
 * @param {string[]} chosen
 * @param {{ prefix: string, disabled?: boolean }} options
 */
export function renderTopicChips(box, chosen, options) {
  const chips = book.topics.map((w) => {
    const label = document.createElement("label");
    label.className = "topic-chip";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = w.id;
    input.checked = chosen.includes(w.id);
    input.disabled = Boolean(options.disabled);
    input.dataset.testid = `${options.prefix}-${w.id}`;
    const text = document.createElement("span");
    text.textContent = wordOf(w);
    label.append(input, text);
    return label;
  });
  const legend = box.querySelector("legend");
  box.replaceChildren(...(legend ? [legend] : []), ...chips);
}

/** The ids of the checked chips in `box`. @param {HTMLElement} box */
export function checkedTopics(box) {
  return [...box.querySelectorAll("input[type=checkbox]")]
    .filter((i) => i instanceof HTMLInputElement && i.checked)
    .map((i) => /** @type {HTMLInputElement} */ (i).value);
}
