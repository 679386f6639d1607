"""The satisfaction survey at close ([survey]): whether a conversation is asked, the words on
its channel, the token that stands for her conversation where she holds it (a LINE postback, an
e-mail link), and when an answer is still taken.

A token is an HMAC of the conversation id under a key derived from the identity key: made again
when the question is sent, so it is never stored (only its SHA-256, surveys.token_hash), and it
shows nothing of the conversation. Never log a token.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.core import survey as words
from inbox.core.model import ChannelKind, ConversationId, OutboundMessage
from inbox.identity import derived_key
from inbox.survey_config import SurveyConfig

TOKEN_BYTES = 18  # 24 URL-safe characters
FORM_PATH = "/survey"


class SurveyDesk:
    def __init__(
        self, cfg: SurveyConfig, key: bytes, *, timezone: ZoneInfo, base_url: str = ""
    ) -> None:
        self.cfg = cfg
        self._key = derived_key(key, "survey")
        self._tz = timezone
        self._base_url = base_url.rstrip("/")

    def asks(self, channel: ChannelKind, outcome: str | None) -> bool:
        """Whether closing a conversation of this channel with this outcome sends the survey
        (her discretion and opt-out the store checks, as they are at that moment)."""
        return (
            self.cfg.enabled
            and channel in self.cfg.channels
            and (outcome is None or outcome not in self.cfg.skip_outcomes)
        )

    def question(self, language: str) -> str:
        return words.question(language, ja=self.cfg.question_ja, en=self.cfg.question_en)

    def bodies(self, channel: ChannelKind) -> dict[str, str]:
        return {
            lang: words.body(channel, lang, self.question(lang), link_days=self.cfg.link_days)
            for lang in words.LANGUAGES
        }

    def token(self, conversation_id: ConversationId) -> str:
        mac = hmac.new(self._key, f"survey:{conversation_id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:TOKEN_BYTES]).decode()

    @staticmethod
    def token_hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def stored_hash(self, channel: ChannelKind, conversation_id: ConversationId) -> str | None:
        """The hash kept for the channels where she answers with a token."""
        if channel in (ChannelKind.LINE, ChannelKind.MAIL):
            return self.token_hash(self.token(conversation_id))
        return None

    def link(self, token: str, language: str = "ja") -> str:
        lang = "?lang=en" if language == "en" else ""
        return f"{self._base_url}{FORM_PATH}/{token}{lang}"

    def asked_since(self, channel: ChannelKind, now: datetime) -> datetime:
        """Asked before this, an answer is no longer taken (the e-mail link: link_days)."""
        if channel is ChannelKind.MAIL:
            return now - timedelta(days=self.cfg.link_days)
        return now - timedelta(hours=self.cfg.answer_hours)

    def expired_before(self, now: datetime) -> datetime:
        """Asked before this, no channel takes an answer any more (the longest window)."""
        return min(self.asked_since(ChannelKind.MAIL, now), self.asked_since(ChannelKind.SMS, now))

    def day(self, now: datetime) -> date:
        return now.astimezone(self._tz).date()

    def ready(self, msg: OutboundMessage) -> OutboundMessage:
        """The question with its token, as its channel sends it (any other message as is)."""
        if msg.survey is None:
            return msg
        token = self.token(msg.conversation_id)
        survey = dataclasses.replace(msg.survey, token=token)
        body = msg.body
        if msg.channel is ChannelKind.MAIL:  # the link goes with the mail only, never stored
            body = f"{body}\n\n{self.link(token, msg.survey.language)}\n"
        return dataclasses.replace(msg, survey=survey, body=body)
