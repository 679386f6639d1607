// @ts-check
// What the chat keeps on this device: the session token and the messages not yet acknowledged.
// Only in this tab (sessionStorage: gone when the tab closes, so the chat opens empty next time)
// unless she chose "keep on this device" (localStorage), with a memory fallback where storage
// is refused (private mode, disabled).

export const TOKEN_KEY = "tsunagu.chat.token";
export const PENDING_KEY = "tsunagu.chat.pending";
// Set only while she keeps the conversation on this device ("1"); "0" in this tab when she
// turned off a keep the program starts with.
const KEEP_KEY = "tsunagu.chat.keep";
const CHAT_KEYS = [TOKEN_KEY, PENDING_KEY];
const LANG_KEY = "tsunagu.lang"; // i18n.js's: a trace of the service too, cleared on quick exit

/** @param {"localStorage" | "sessionStorage"} name @returns {Storage | null} */
function storage(name) {
  try {
    return window[name];
  } catch {
    return null;
  }
}

/** @param {"localStorage" | "sessionStorage"} name @param {string} key */
function rawGet(name, key) {
  try {
    return storage(name)?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** @param {"localStorage" | "sessionStorage"} name @param {string} key @param {string | null} value */
function rawSet(name, key, value) {
  try {
    const s = storage(name);
    if (!s) return false;
    if (value === null) s.removeItem(key);
    else s.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

/** Whether the conversation is kept on this device. @param {boolean} programDefault */
export function keepsOnDevice(programDefault) {
  if (rawGet("localStorage", KEEP_KEY) === "1") return true;
  return programDefault && rawGet("sessionStorage", KEEP_KEY) !== "0";
}

let kept = false;

/**
 * Decide where the chat's keys live from now on (at boot). Not kept: whatever an earlier visit
 * left on the device goes.
 * @param {boolean} keep
 */
export function useDeviceStorage(keep) {
  kept = keep;
  if (!keep) for (const key of CHAT_KEYS) rawSet("localStorage", key, null);
}

/**
 * Her choice: keep the conversation on this device (localStorage) or in this tab only; what is
 * stored moves along.
 * @param {boolean} keep
 */
export function setKeep(keep) {
  const from = kept ? "localStorage" : "sessionStorage";
  const to = keep ? "localStorage" : "sessionStorage";
  for (const key of CHAT_KEYS) {
    const value = rawGet(from, key);
    if (from !== to) rawSet(from, key, null);
    if (value !== null) rawSet(to, key, value);
  }
  rawSet("localStorage", KEEP_KEY, keep ? "1" : null);
  rawSet("sessionStorage", KEEP_KEY, keep ? null : "0");
  kept = keep;
}

/** Quick exit: nothing of the chat stays in this browser's storage, unless she chose to keep it. */
export function forgetUnlessKept() {
  for (const key of CHAT_KEYS) {
    memoryStore.delete(key);
    rawSet("sessionStorage", key, null);
    if (!kept) rawSet("localStorage", key, null);
  }
  rawSet("sessionStorage", KEEP_KEY, null);
  if (!kept) rawSet("localStorage", LANG_KEY, null);
}

function where() {
  return kept ? "localStorage" : "sessionStorage";
}

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
  if (storage(where()) === null) return memoryStore.has(key) ? /** @type {string} */ (memoryStore.get(key)) : null;
  return rawGet(where(), key);
}

/** @param {string} key @param {string} value */
export function storeSet(key, value) {
  if (!rawSet(where(), key, value)) memoryStore.set(key, value);
}

/** @param {string} key */
export function storeRemove(key) {
  memoryStore.delete(key);
  rawSet("sessionStorage", key, null);
  rawSet("localStorage", key, null);
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
