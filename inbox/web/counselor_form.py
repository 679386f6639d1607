"""A counselor's routing profile on the wire: the PATCH body read strictly, and her JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from inbox.core.errors import ConfigError, ValidationError
from inbox.core.model import MAX_CAPACITY, ChannelKind, CounselorUpdate, Presence, Shift, User
from inbox.core.shifts import DeskClosed, on_shift, parse_shift, shift_data
from inbox.web.api import user_json

MAX_LIMIT = MAX_CAPACITY
MAX_LABEL_CHARS = 40  # one skill, language or team
MAX_LABELS = 50
LABEL_FIELDS = ("skills", "languages", "teams")
PROFILE_FIELDS = frozenset({"presence", "capacity", "channel_capacity", "shift", *LABEL_FIELDS})
SELF_FIELDS = frozenset({"presence"})  # what a counselor may change about herself


def counselor_json(user: User, now: datetime, *, closed: DeskClosed) -> dict[str, Any]:
    """user_json plus her routing profile, and whether her shift covers `now` (off on the
    desk's `closed` days unless she works them)."""
    return {
        **user_json(user),
        "presence": user.presence.value,
        "skills": sorted(user.skills),
        "languages": sorted(user.languages),
        "teams": sorted(user.teams),
        "channel_capacity": {k.value: v for k, v in user.channel_capacity},
        "shift": None if user.shift is None else shift_data(user.shift),
        "on_shift": on_shift(user.shift, now, closed=closed),
    }


def check_known_fields(data: Mapping[str, object]) -> None:
    """At least one field, and only the ones a profile has."""
    allowed = ", ".join(sorted(PROFILE_FIELDS))
    unknown = sorted(set(data) - PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field; allowed: {allowed}", field=unknown[0])
    if not data:
        raise ValidationError(f"nothing to change; give one or more of: {allowed}", field="body")


def parse_presence(value: object, field: str = "presence") -> Presence:
    allowed = ", ".join(p.value for p in Presence)
    if isinstance(value, str):
        try:
            return Presence(value)
        except ValueError:
            pass
    raise ValidationError(f"one of: {allowed}", field=field)


def _limit(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_LIMIT:
        raise ValidationError(f"an integer from 0 to {MAX_LIMIT}", field=field)
    return value


def _channel_capacity(value: object) -> tuple[tuple[ChannelKind, int], ...]:
    if not isinstance(value, dict):
        raise ValidationError(
            'an object of channel to limit, e.g. {"webchat": 3, "phone": 1}',
            field="channel_capacity",
        )
    allowed = ", ".join(c.value for c in ChannelKind)
    pairs: list[tuple[ChannelKind, int]] = []
    for name, limit in value.items():
        field = f"channel_capacity.{name}"
        try:
            channel = ChannelKind(name)
        except ValueError:
            raise ValidationError(f"not a channel; allowed: {allowed}", field=field) from None
        pairs.append((channel, _limit(limit, field)))
    return tuple(sorted(pairs))


def _labels(value: object, field: str) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > MAX_LABELS:
        raise ValidationError(f"a list of at most {MAX_LABELS} strings", field=field)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_LABEL_CHARS:
            raise ValidationError(
                f"a non-empty string of at most {MAX_LABEL_CHARS} characters", field=f"{field}[{i}]"
            )
    return frozenset(item.strip() for item in value)


def _shift(value: object) -> Shift:
    try:
        return parse_shift(value, "shift")
    except ConfigError as exc:
        # parse_shift says "<path>: <problem>"; the path is the field the client got wrong
        path, _, problem = str(exc).partition(": ")
        raise ValidationError(problem or str(exc), field=path or "shift") from None


def parse_counselor_update(data: Mapping[str, object]) -> CounselorUpdate:
    """The change a PATCH body asks for; ValidationError names the first bad field."""
    check_known_fields(data)
    labels = {name: _labels(data[name], name) for name in LABEL_FIELDS if name in data}
    shift = data.get("shift")
    return CounselorUpdate(
        presence=parse_presence(data["presence"]) if "presence" in data else None,
        capacity=_limit(data["capacity"], "capacity") if "capacity" in data else None,
        channel_capacity=(
            _channel_capacity(data["channel_capacity"]) if "channel_capacity" in data else None
        ),
        skills=labels.get("skills"),
        languages=labels.get("languages"),
        teams=labels.get("teams"),
        shift=None if shift is None else _shift(shift),
        clear_shift="shift" in data and shift is None,
    )
