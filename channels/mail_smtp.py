"""Send one mail over SMTP with aiosmtplib and say whether a failure is worth retrying.

Connection errors, timeouts and 4xx answers are retryable; 5xx answers (recipient, sender or
content refused, authentication failed) and an untrusted certificate are not. Error messages
carry the SMTP codes, never the recipient, sender, body or the server's text (which often
echoes the address), and no exception holding those is chained."""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

import aiosmtplib

from channels.mail_imap_conn import is_loopback, mail_error
from inbox.core.errors import ChannelError

log = logging.getLogger(__name__)

_ENHANCED_STATUS = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    security: Literal["tls", "starttls", "plain"]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    ssl_context: ssl.SSLContext | None = None  # None: the system CAs, hostname checked


async def send_mail(
    settings: SmtpSettings, msg: EmailMessage, *, sender: str, recipients: Sequence[str]
) -> str:
    """Deliver `msg` to `recipients` (the envelope; headers are not consulted) and return its
    Message-ID header, adding one first if it has none. When the server takes the message for
    some recipients but refuses others, it counts as sent: a retry would duplicate it for the
    ones that got it. The refusal is logged as a count."""
    where = f"SMTP {settings.host}:{settings.port}"
    if not recipients:
        raise ValueError("send_mail needs at least one recipient")
    if settings.security == "plain" and settings.username and not is_loopback(settings.host):
        raise mail_error(
            f"{where}: refusing to send the password unencrypted to a host that is not "
            'loopback; set security = "tls" (port 465) or "starttls" (port 587)',
            retryable=False,
        )
    if msg["Message-ID"] is None:
        msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message_id = str(msg["Message-ID"])
    try:
        refused, _ = await aiosmtplib.send(
            msg,
            sender=sender,
            recipients=list(recipients),
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",  # True demands it, False never tries
            tls_context=settings.ssl_context,
            timeout=settings.timeout_s,
        )
    except aiosmtplib.SMTPException as exc:
        failure, cause = _classify(where, exc), _safe_cause(exc)
    except ssl.SSLCertVerificationError as exc:
        raise mail_error(f"{where}: certificate not trusted", retryable=False) from exc
    except (OSError, TimeoutError) as exc:  # may surface unwrapped from the socket layer
        raise mail_error(f"{where}: {type(exc).__name__}; retry", retryable=True) from exc
    else:
        if refused:
            codes = sorted({response.code for response in refused.values()})
            log.warning(
                "some recipients refused",
                extra={"action": "mail_recipients_refused", "refused": len(refused),
                       "recipients": len(recipients), "codes": codes},
            )  # fmt: skip
        return message_id
    # Raised outside the except block, so not even __context__ keeps the refusal (it holds
    # the address and the server's text) for a traceback in the logs to print.
    raise failure from cause


def _classify(where: str, exc: aiosmtplib.SMTPException) -> ChannelError:
    """The ChannelError for an aiosmtplib failure: retryable unless the server said 5xx."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):  # every recipient was refused
        codes = [_code(r) for r in exc.recipients]
        transient = bool(codes) and all(code.startswith("4") for code in codes)
        return mail_error(
            f"{where}: all {len(codes)} recipients refused ({', '.join(sorted(set(codes)))})",
            retryable=transient,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        step = {
            aiosmtplib.SMTPRecipientRefused: "recipient refused",
            aiosmtplib.SMTPSenderRefused: "sender refused",
            aiosmtplib.SMTPDataError: "message refused",
            aiosmtplib.SMTPAuthenticationError: "authentication failed",
            aiosmtplib.SMTPHeloError: "greeting refused",
        }.get(type(exc), "command refused")
        return mail_error(f"{where}: {step} ({_code(exc)})", retryable=exc.code < 500)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):  # e.g. no STARTTLS or AUTH offered
        return mail_error(
            f"{where}: server lacks a needed extension; check security", retryable=False
        )
    return mail_error(f"{where}: {type(exc).__name__}; retry", retryable=True)


def _code(exc: aiosmtplib.SMTPResponseException) -> str:
    """`550 5.1.1`: the reply code plus the enhanced status, without the server's text."""
    found = _ENHANCED_STATUS.match(exc.message or "")
    return f"{exc.code} {found.group(1)}" if found else str(exc.code)


def _safe_cause(exc: aiosmtplib.SMTPException) -> BaseException | None:
    # Refusals carry the address and the server's text (args, message): keep them out of
    # tracebacks in the logs. Connection errors and timeouts hold only host and port.
    if isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused):
        return None
    return exc
