"""The one check every Twilio webhook passes first (SMS now, Voice later): its signature.

Twilio signs the URL it called plus the form's fields with the account's Auth Token
(X-Twilio-Signature). Behind a TLS-terminating proxy the server sees http://127.0.0.1:port,
not that URL, so it is rebuilt from server.public_url and the path and query as sent;
RequestValidator tries it with and without the default port, as Twilio is inconsistent there.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from inbox.web.server import SERVICES, ApiError

log = logging.getLogger(__name__)


def called_url(request: web.Request) -> str:
    """The URL Twilio called: the public base URL and the path and query as they came (raw, so
    a percent-encoded query is signed as Twilio wrote it)."""
    return request.app[SERVICES].settings.base_url + request.rel_url.raw_path_qs


async def signed_form(request: web.Request, auth_token: str) -> MultiDictProxy[str]:
    """The webhook's form fields once its signature matches; otherwise 403, and a log line that
    says where and why, never the fields (a body, a number) nor the signature."""
    form = await request.post()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        _refuse(request, "missing")
    if not auth_token:  # config refuses this at start-up; an empty key would let anyone sign
        _refuse(request, "unverifiable (no auth token)")
    fields: MultiDict[str] = MultiDict()
    for name, value in form.items():
        if not isinstance(value, str):  # a file upload: Twilio never sends one
            _refuse(request, "mismatch")
        fields.add(name, value)
    if not RequestValidator(auth_token).validate(called_url(request), fields, signature):
        _refuse(request, "mismatch")
    return MultiDictProxy(fields)


def _refuse(request: web.Request, reason: str) -> NoReturn:
    log.warning(
        "Twilio webhook refused: signature %s",
        reason,
        extra={"action": "twilio_signature_refused", "path": request.path, "reason": reason},
    )
    raise ApiError(403, "twilio_signature", f"X-Twilio-Signature {reason}; nothing was stored")
