// @ts-check
// Small DOM helpers shared by the console and the chat. User text only ever goes in as textContent.

/**
 * A new element with an optional class name and text (set with textContent; null/undefined: none).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string | number | null} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/**
 * The element with this id, checked to be of the expected kind: a page that lacks it is a bug
 * to be told at once, not a null met later.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} kind e.g. HTMLButtonElement
 * @returns {T}
 */
export function byId(id, kind) {
  const e = document.getElementById(id);
  if (!(e instanceof kind)) throw new Error(`#${id} is missing or not a ${kind.name}`);
  return e;
}

/**
 * The first element under `root` matching `selector`, checked like byId().
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} kind
 * @returns {T}
 */
export function query(root, selector, kind) {
  const e = root.querySelector(selector);
  if (!(e instanceof kind)) throw new Error(`${selector} is missing or not a ${kind.name}`);
  return e;
}

/**
 * Coalesce bursts of events into one run of `fn`, never two at once: it runs once `wait` ms pass
 * without another call, and at the latest `maxWait` ms after the first call it has not run for,
 * so a steady stream (an event every 50 ms, say) still refreshes about once a second.
 * @param {() => unknown} fn
 * @param {number} [wait]
 * @param {number} [maxWait]
 * @returns {() => void}
 */
export function coalesced(fn, wait = 120, maxWait = 1000) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {number | null} */
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

/** @param {unknown} err @returns {string} the message of an error, or "" */
export function errorMessage(err) {
  return err instanceof Error ? err.message : "";
}
