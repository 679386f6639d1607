"""The intake's SMS keyword label (inbox.sms_labels), pure: composed with the routing labeler,
a whole STOP / START text carries sms_opt and no auto-reply; anything else is left alone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from inbox.core.model import ChannelKind, ContactFacts, InboundMessage, IntakeLabels
from inbox.sms_config import SmsConfig
from inbox.sms_labels import SmsOptLabeler

RULED = IntakeLabels(priority=2, tags=frozenset({"x"}), auto_replies=("welcome",))


class _Rules:
    needs_facts = True

    def __call__(self, msg: InboundMessage, facts: ContactFacts, /) -> IntakeLabels:
        return RULED


def _msg(body: str, channel: ChannelKind = ChannelKind.SMS) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        external_id="SM1",
        sender="+819012345678",
        body=body,
        received_at=datetime(2026, 1, 5, tzinfo=UTC),
    )


def test_keywords_carry_sms_opt_and_no_auto_reply() -> None:
    label = SmsOptLabeler(_Rules(), SmsConfig().opt_out_words)
    assert label.needs_facts
    facts = ContactFacts()
    assert label(_msg(" ｓｔｏｐ "), facts) == dataclasses.replace(
        RULED, sms_opt=True, auto_replies=()
    )
    assert label(_msg("再開"), facts) == dataclasses.replace(RULED, sms_opt=False, auto_replies=())
    for other in (_msg("HELP"), _msg("stop it please"), _msg("STOP", ChannelKind.WEBCHAT)):
        assert label(other, facts) == RULED
