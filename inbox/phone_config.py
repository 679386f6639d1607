"""The [phone] section: the phone desk's call outcomes, the referrals a call may record, and
the callback retry rule (numbers are read in sms.default_region)."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbox.core.calls import DEFAULT_CALL_OUTCOMES, CallOutcome, parse_call_outcomes
from inbox.core.labels import Label, parse_labels
from routing.callbacks import DEFAULT_RETRY, RetryRule, parse_retry_rule

# Where a phone desk in Japan most often refers a caller; the list is data, replaced whole.
DEFAULT_REFERRALS: tuple[Label, ...] = (
    Label(id="police", ja="警察", en="Police"),
    Label(id="dv_center", ja="配偶者暴力相談支援センター", en="Spousal violence support center"),
    Label(id="child_guidance", ja="児童相談所", en="Child guidance center"),
    Label(id="welfare", ja="福祉事務所", en="Welfare office"),
    Label(id="legal", ja="法テラス・弁護士", en="Legal aid (Houterasu) or a lawyer"),
    Label(id="medical", ja="医療機関", en="Medical care"),
    Label(id="shelter", ja="一時保護", en="Temporary shelter"),
    Label(id="other", ja="その他", en="Other"),
)


def parse_referrals(raw: object, where: str) -> tuple[Label, ...]:
    """[phone].referrals replaces the default list; it may be empty (no referrals offered)."""
    return parse_labels(raw, where)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneConfig:
    outcomes: tuple[CallOutcome, ...] = field(
        default=DEFAULT_CALL_OUTCOMES, metadata={"parse": parse_call_outcomes}
    )
    referrals: tuple[Label, ...] = field(
        default=DEFAULT_REFERRALS, metadata={"parse": parse_referrals}
    )
    retry: RetryRule = field(default=DEFAULT_RETRY, metadata={"parse": parse_retry_rule})

    def outcome_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.outcomes)

    def referral_ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.referrals)
