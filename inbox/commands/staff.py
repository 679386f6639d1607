"""StaffCommands: every staff command, grouped, for the API, the CLI and the screens to call.

Nothing else in the web layer or the CLI writes to the store on staff's behalf or wakes a
worker: a command knows which events it committed, and inbox.commands.signals who must hear.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from inbox.commands.accounts import AccountCommands
from inbox.commands.agencies import AgencyCommands
from inbox.commands.alerts import AlertCommands
from inbox.commands.canned import CannedReplyCommands
from inbox.commands.casework import CaseworkCommands
from inbox.commands.conversations import ConversationCommands
from inbox.commands.counselors import CounselorCommands
from inbox.commands.report import ReportCommands
from inbox.commands.signals import Listener
from inbox.commands.writes import Clock
from inbox.survey import SurveyDesk
from routing.hours import TOKYO
from storage.base import Store


@dataclass(frozen=True, slots=True)
class StaffCommands:
    conversations: ConversationCommands
    counselors: CounselorCommands
    accounts: AccountCommands
    canned: CannedReplyCommands
    alerts: AlertCommands
    report: ReportCommands
    agencies: AgencyCommands  # casework: partner agencies and referrals
    casework: CaseworkCommands

    @classmethod
    def build(
        cls,
        store: Store,
        *,
        clock: Clock,
        signals: Listener,
        surveys: SurveyDesk | None = None,
        timezone: ZoneInfo = TOKYO,
    ) -> StaffCommands:
        """Commands over `store` that wake this process's workers through `signals` (none, for
        the CLI: Signals()); `surveys`: the survey sent at close ([survey]; None: none);
        `timezone`: the program's calendar (a referral's day)."""
        return cls(
            conversations=ConversationCommands(
                store, clock=clock, signals=signals, surveys=surveys
            ),
            counselors=CounselorCommands(store, clock=clock, signals=signals),
            accounts=AccountCommands(store, clock=clock, signals=signals),
            canned=CannedReplyCommands(store, clock=clock, signals=signals),
            alerts=AlertCommands(store, clock=clock, signals=signals),
            report=ReportCommands(store, clock=clock, signals=signals),
            agencies=AgencyCommands(store, clock=clock, signals=signals, timezone=timezone),
            casework=CaseworkCommands(store, clock=clock, signals=signals),
        )
