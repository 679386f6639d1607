// @ts-check
// The JSON API client. Cookie session; every non-GET request carries X-Tsunagu-CSRF: 1 and a JSON
// content type. Errors come back as ApiError (status 0 and code "network" when unreachable).

import { t, STRINGS } from "../i18n.js";

// --- desk: every error in the UI's language. The server's codes are stable (inbox/web/server.py
// ERROR_CODES); a known code is said with i18n.js "error.code.<code>", an unknown one with the
// server's own message.
/**
 * @param {unknown} code
 * @param {string} fallback the server's message
 * @param {unknown} [field] the request field it is about
 * @returns {string}
 */
export function errorText(code, fallback, field) {
  const key = `error.code.${String(code)}`;
  if (typeof code !== "string" || !(key in STRINGS.ja)) return fallback;
  if (typeof field !== "string" || !field) return t(key);
  const fieldKey = `field.${field}`; // the field's name in the UI's language, if it has one
  return t(key) + t("error.field", { field: fieldKey in STRINGS.ja ? t(fieldKey) : field });
}

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code the server's error code ("network", "http" when it gave none)
   * @param {string} message shown to the person
   * @param {string} [field] the request field the error is about
   */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    /** @type {number | null} Set on 429 and 503: how long the server asks us to wait (s). */
    this.retryAfterS = null;
    /** @type {Record<string, unknown>} The whole error the server answered, for what an error
     * carries besides its code (reply_collision: the authors' names). */
    this.details = {};
  }
}

/**
 * One API request; the parsed JSON answer (null for 204 or a body that is not JSON).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON; a Blob (a file) as it is, under its type
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, credentials: "same-origin", headers };
  if (method !== "GET") {
    headers["X-Tsunagu-CSRF"] = "1";
    // a file (a CSV to import) goes as it is, under its own type; anything else as JSON
    headers["Content-Type"] = body instanceof Blob ? body.type || "application/octet-stream" : "application/json";
    if (body instanceof Blob) init.body = body;
    else if (body !== undefined) init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const apiError = new ApiError(
      res.status,
      err.code || "http",
      errorText(err.code, err.message || t("error.http", { status: res.status }), err.field),
      err.field,
    );
    apiError.retryAfterS = Number(res.headers.get("Retry-After")) || null;
    if (typeof err === "object" && err !== null) apiError.details = err;
    throw apiError;
  }
  return data;
}

/**
 * @typedef {object} CallHooks
 * @property {() => void} onUnauthorized a 401: the session is over
 * @property {(message: string) => void} onError any other failure, to be shown
 */

/**
 * Like api(), but a 401 goes to `onUnauthorized` and any other error to `onError`; the call then
 * answers null.
 * @param {CallHooks} hooks
 * @returns {(method: string, path: string, body?: unknown) => Promise<any>}
 */
export function makeCall(hooks) {
  return async (method, path, body) => {
    try {
      return await api(method, path, body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        hooks.onUnauthorized();
        return null;
      }
      hooks.onError((e instanceof Error && e.message) || t("error.network"));
      return null;
    }
  };
}
