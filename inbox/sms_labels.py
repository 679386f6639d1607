"""The intake's SMS keyword label, composed with the routing labeler: a text that is a whole
STOP / START word carries `sms_opt`, so that her opt-out is set in the transaction that stores
it (nothing automatic can be sent in between, and no second write can fail after the first),
and it gets no auto-reply."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from inbox.core.model import ChannelKind, ContactFacts, InboundMessage, IntakeLabels
from inbox.core.sms import OptOutWords
from inbox.pipeline import Labeler


@dataclass(frozen=True, slots=True)
class SmsOptLabeler:
    """`inner`'s labels, plus `sms_opt` for an SMS keyword (inbox.pipeline.Labeler)."""

    inner: Labeler
    words: OptOutWords

    @property
    def needs_facts(self) -> bool:
        return self.inner.needs_facts

    def __call__(self, msg: InboundMessage, facts: ContactFacts, /) -> IntakeLabels:
        labels = self.inner(msg, facts)
        opt = sms_opt(self.words, msg)
        if opt is None:
            return labels
        return dataclasses.replace(labels, sms_opt=opt, auto_replies=())


def sms_opt(words: OptOutWords, msg: InboundMessage) -> bool | None:
    """True: she opted out (STOP); False: back in (START); None: not an SMS keyword."""
    return words.opt(msg.body) if msg.channel is ChannelKind.SMS else None
