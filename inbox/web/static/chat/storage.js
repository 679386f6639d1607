// @ts-check
// What the chat keeps on this device: the session token and the messages not yet acknowledged.
// localStorage, with a memory fallback where storage is refused (private mode, disabled).

export const TOKEN_KEY = "tsunagu.chat.token";
export const PENDING_KEY = "tsunagu.chat.pending";

/**
 * A message written here that the server has not acknowledged yet.
 * @typedef {object} StoredPending
 * @property {string} client_id the server dedups by it, so a resend is safe
 * @property {string} body
 * @property {string} [created_at]
 */

/** @type {Map<string, string>} */
const memoryStore = new Map();

/** @param {string} key @returns {string | null} */
export function storeGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return memoryStore.has(key) ? /** @type {string} */ (memoryStore.get(key)) : null;
  }
}

/** @param {string} key @param {string} value */
export function storeSet(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    memoryStore.set(key, value);
  }
}

/** @param {string} key */
export function storeRemove(key) {
  memoryStore.delete(key);
  try {
    window.localStorage.removeItem(key);
  } catch {
    /* nothing to do */
  }
}

/** The unacknowledged messages kept from an earlier visit. @returns {StoredPending[]} */
export function loadPendingFromStore() {
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

/** Keep these unacknowledged messages (none: forget the key). @param {StoredPending[]} list */
export function savePending(list) {
  if (list.length) storeSet(PENDING_KEY, JSON.stringify(list));
  else storeRemove(PENDING_KEY);
}
