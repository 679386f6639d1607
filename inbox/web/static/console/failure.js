// @ts-check
// Why a reply was not delivered, in the console's words where the reason is known; else as the
// server wrote it (the outbox's short reason, never an address).

import { t } from "../i18n.js";

/**
 * @param {string} reason the outbox's text, e.g. "[sms] twilio 21610: ...", "opted_out: ..." or
 *   "[line] line 400: The request body has 1 error(s) ..."
 * @param {string} channel the conversation's channel: an opt-out is worded as hers
 */
export function failureText(reason, channel) {
  if (reason.startsWith("opted_out:")) return t(channel === "line" ? "line.failure.opted_out" : "sms.failure.opted_out");
  // LINE's refusals come as "[line] line <status>: <LINE's message>" (ChannelError prefixes the
  // channel; the bare form is taken too): a 400 is the message LINE did not
  // take (its detail shown as written, the counselor may shorten or fix it), a 401/403 the
  // channel access token it refused (the program's [line] settings, not her).
  // The month's push limit is reached (not a rate limit: retrying cannot help); a reply whose
  // answer was lost may have reached her, so it is not sent again by itself.
  if (/^(?:\[line\] )?line quota:/.test(reason)) return t("line.failure.quota");
  if (/^(?:\[line\] )?line reply:/.test(reason)) return t("line.failure.unknown");
  const line = /^(?:\[line\] )?line (\d{3}): ?([\s\S]*)$/.exec(reason);
  if (line) {
    if (line[1] === "401" || line[1] === "403") return t("line.failure.token", { status: line[1] });
    if (line[1] === "400") return t("line.failure.refused", { detail: line[2] });
    return reason;
  }
  // Twilio's permanent refusals come as "twilio <code>: <reason>" (inbox.core.sms
  // PERMANENT_ERROR_CODES, the one list): shown in her words when i18n has the code's,
  // else as the server wrote it (t() answers an unknown key with the key itself).
  const code = /twilio (\d+)/.exec(reason);
  if (!code) return reason;
  const key = `sms.failure.${code[1]}`;
  const words = t(key);
  return words === key ? reason : words;
}
