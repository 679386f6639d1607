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
 * so a steady stream (an event every 50 ms, say) still refreshes about once a second. With
 * `minGap`, runs also start at least that far apart: events every 200 ms (each past `wait`)
 * then run it once per `minGap`, not five times a second, while a lone event after a quiet
 * spell still runs it `wait` ms later.
 * @param {() => unknown} fn
 * @param {number} [wait]
 * @param {number} [maxWait]
 * @param {number} [minGap]
 * @returns {() => void}
 */
export function coalesced(fn, wait = 120, maxWait = 1000, minGap = 0) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {number | null} */
  let pendingSince = null;
  let lastStart = -Infinity;
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    lastStart = performance.now();
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
    const soon = Math.min(wait, pendingSince + maxWait - now);
    timer = setTimeout(fire, Math.max(0, soon, lastStart + minGap - now));
  };
}

/** @param {unknown} err @returns {string} the message of an error, or "" */
export function errorMessage(err) {
  return err instanceof Error ? err.message : "";
}

/**
 * The key an element is matched by across redraws (morphChildren): data-key, else its id.
 * @param {Node} node
 * @returns {string | null}
 */
function keyOf(node) {
  if (!(node instanceof HTMLElement)) return null;
  return node.dataset.key || node.id || null;
}

/**
 * Make `old` look like `fresh` in place: attributes, form state and text are changed only where
 * they differ, so the element (and its focus, a click on it, the text selected in it) stays.
 * An element marked data-morph-keep keeps its children (another module fills them). Returns the
 * node that is in the page after (`old`, or `fresh` when they are not the same kind of node).
 * @param {Node} old
 * @param {Node} fresh
 * @returns {Node}
 */
export function morph(old, fresh) {
  if (old.nodeType !== fresh.nodeType || old.nodeName !== fresh.nodeName) {
    old.parentNode?.replaceChild(fresh, old);
    return fresh;
  }
  if (!(old instanceof Element) || !(fresh instanceof Element)) {
    if (old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
    return old;
  }
  for (const name of old.getAttributeNames()) {
    if (!fresh.hasAttribute(name)) old.removeAttribute(name);
  }
  for (const name of fresh.getAttributeNames()) {
    const value = fresh.getAttribute(name) ?? "";
    if (old.getAttribute(name) !== value) old.setAttribute(name, value);
  }
  if (old instanceof HTMLInputElement && fresh instanceof HTMLInputElement) {
    if (old.checked !== fresh.checked) old.checked = fresh.checked;
    if (old.type !== "checkbox" && old.type !== "radio" && old.value !== fresh.value) old.value = fresh.value;
  }
  if (!(old instanceof HTMLElement && "morphKeep" in old.dataset)) morphChildren(old, [...fresh.childNodes]);
  return old;
}

/**
 * Make `parent`'s children be `fresh`, keeping each child whose key (data-key, else id) or,
 * without keys, whose place matches, morphed in place (morph); the others are added or removed.
 * @param {Element} parent
 * @param {Node[]} fresh
 */
export function morphChildren(parent, fresh) {
  /** @type {Map<string, Node>} */
  const keyed = new Map();
  /** @type {Node[]} */
  const unkeyed = [];
  for (const child of [...parent.childNodes]) {
    const key = keyOf(child);
    if (key !== null && !keyed.has(key)) keyed.set(key, child);
    else unkeyed.push(child);
  }
  /** @type {Node[]} */
  const kept = [];
  let u = 0;
  for (const node of fresh) {
    const key = keyOf(node);
    /** @type {Node | undefined} */
    let match;
    if (key !== null) {
      match = keyed.get(key);
      keyed.delete(key);
    } else {
      while (u < unkeyed.length && unkeyed[u].nodeName !== node.nodeName) u += 1;
      match = unkeyed[u];
      if (match) u += 1;
    }
    kept.push(match ? morph(match, node) : node);
  }
  const wanted = new Set(kept);
  for (const child of [...parent.childNodes]) if (!wanted.has(child)) child.remove();
  // in order: a node already in its place is not moved (moving one loses its focus)
  /** @type {ChildNode | null} */
  let at = parent.firstChild;
  for (const node of kept) {
    if (node === at) {
      at = at.nextSibling;
      continue;
    }
    parent.insertBefore(node, at);
  }
}
