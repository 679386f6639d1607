"""The [survey] section: the one-question satisfaction survey sent when a counselor closes a
conversation (inbox.survey), on which channels, to whom, and how long an answer is taken."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind

# The channels a consulter writes on and can be asked on: the phone has no written survey.
SURVEY_CHANNELS = (ChannelKind.WEBCHAT, ChannelKind.LINE, ChannelKind.SMS, ChannelKind.MAIL)


def parse_channels(value: object, where: str) -> tuple[ChannelKind, ...]:
    allowed = ", ".join(c.value for c in SURVEY_CHANNELS)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of channels ({allowed})")
    found: list[ChannelKind] = []
    for name in value:
        if name not in {c.value for c in SURVEY_CHANNELS}:
            raise ConfigError(
                f"{where}: {name!r} is not a channel the survey goes out on ({allowed})"
            )
        found.append(ChannelKind(name))
    return tuple(dict.fromkeys(found))


def parse_outcomes(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of outcome ids")
    return frozenset(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyConfig:
    enabled: bool = True
    # The channels it is sent on (the phone never): all the written ones by default.
    channels: tuple[ChannelKind, ...] = field(
        default=SURVEY_CHANNELS, metadata={"parse": parse_channels}
    )
    # Sent to a consulter who asked for discretion: never, unless the program allows it.
    when_discreet: bool = False
    # How long after it was asked an answer is taken (web chat, LINE, SMS), in hours.
    answer_hours: int = field(default=72, metadata={"min": 1, "max": 24 * 90})
    # How long the e-mail's single-use link stays valid, in days.
    link_days: int = field(default=7, metadata={"min": 1, "max": 90})
    # Outcomes ([closing] ids) after which no survey is sent (say, "spam" or "duplicate").
    skip_outcomes: frozenset[str] = field(default=frozenset(), metadata={"parse": parse_outcomes})
    # The question in the program's own words; "" keeps the default (inbox.core.casework).
    question_ja: str = ""
    question_en: str = ""
