"""What the grant report counts, as the store counts it: the question (a period of Tokyo days and
the unit of a consultation) and the answer (counts by key and month), and the ids of the
report's figures. Pure and stdlib only; storage.report counts, inbox.core.report assembles.

The counting rules (README "The report: counting rules"; the report screen's words):
- One consultation is a conversation opened (created_at) in the period on any channel but the
  phone, counted in the month it opened; or, with [report] consultation_unit =
  "conversation_day", each Tokyo day on which the consulter wrote in a conversation (her
  inbound messages), on any channel but the phone.
- A call is one consultation on the phone channel (calls.started_at), inbound or outbound. A
  phone conversation is a callback request: its calls are counted, never the request itself.
- Distinct consulters (実人数) are the contacts among the period's consultations, each once; a
  withheld call is a consultation but no consulter (it has no contact). Not additive: the
  months' consulters do not add up to the period's.
- A new consulter is a contact whose first consultation ever falls in the period; she is new in
  the month of it.
- Referrals, activities and survey answers count by their day (on_day); LINE friends added and
  lost by the Tokyo day of each follow and unfollow.
- Age groups are those of the period's distinct consulters (none told: unknown); topics are
  those of the period's consultations (a consultation counts each of its topics once); agency
  kinds are those of the period's referrals.
Months and days are Asia/Tokyo (UTC+9, no daylight saving).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from inbox.core.calls import DEFAULT_CALL_OUTCOMES
from inbox.core.casework import ACTIVITY_KINDS, REFERRAL_KINDS

TOKYO = ZoneInfo("Asia/Tokyo")
Unit = Literal["conversation", "conversation_day"]
UNITS: tuple[Unit, ...] = get_args(Unit)
# The channels a consultation is counted on, in the report's order (inbox.core.model.ChannelKind
# values; the phone's are its calls).
CHANNELS = ("webchat", "mail", "sms", "phone", "line")
TOTAL = ""  # the month of a count over the whole period


def figure_ids() -> tuple[str, ...]:
    """Every figure of the report's main table, in its order (report_json.md)."""
    return (
        "consultations",
        *(f"consultations.{c}" for c in CHANNELS),
        "consulters",
        "new_consulters",
        "referrals",
        *(f"referrals.{k.id}" for k in REFERRAL_KINDS),
        *(f"activities.{k.id}" for k in ACTIVITY_KINDS),
        "activity_people",
        "activity_new_people",
        "line_friends_added",
        "line_friends_lost",
        "survey_answered",
    )


FIGURE_IDS = figure_ids()


REACHED_BY_DEFAULT = tuple(o.id for o in DEFAULT_CALL_OUTCOMES if o.reached)


@dataclass(frozen=True, slots=True)
class FactsQuery:
    """The period (Tokyo days, both inclusive) and what one consultation is."""

    first: date
    last: date
    unit: Unit = "conversation"
    # The call outcomes that reached her ([phone] outcomes marked reached): an outbound call
    # (a callback try) is a consultation only with one of these; an inbound call always is.
    reached: tuple[str, ...] = REACHED_BY_DEFAULT

    @property
    def start(self) -> datetime:
        """The first day's Tokyo midnight, in UTC."""
        return datetime.combine(self.first, time(), TOKYO).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The Tokyo midnight after the last day, in UTC (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), TOKYO).astimezone(UTC)

    def month_bounds(self) -> list[tuple[str, datetime, datetime]]:
        """Each Tokyo month of the period ("YYYY-MM") with the UTC instants it starts and ends
        at within the period (the first and last month cut to it)."""
        found = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            after = (year + month // 12, month % 12 + 1)
            lo = datetime(year, month, 1, tzinfo=TOKYO).astimezone(UTC)
            hi = datetime(*after, 1, tzinfo=TOKYO).astimezone(UTC)
            found.append((f"{year:04d}-{month:02d}", max(lo, self.start), min(hi, self.end)))
            year, month = after
        return found


# What the store counted: (key, month "YYYY-MM" or TOTAL) -> count. Keys:
#   by month: consultations.<channel>, consulters, new_consulters, referrals.<kind>,
#     activities.<kind>, activity_people, activity_new_people, line_friends_added,
#     line_friends_lost, survey.<answer>
#   over the period (TOTAL): consulters, age.<age group id or unknown>, topic.<topic id>,
#     agency.<agency kind id>
# A count of zero may be missing.
Facts = Mapping[tuple[str, str], int]
