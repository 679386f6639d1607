"""The anonymity policy: which mode applies to a conversation, and who may see its address.

Pure. Every reveal of a raw address is the server's decision, made here, and the caller writes
it to the audit log (an address_revealed event with the reason) before answering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from inbox.core.errors import ConfigError
from inbox.core.model import Anonymity, ChannelKind, Role, User

# Admins manage accounts; reading a consulter's address is casework (README, Roles). Phone staff
# see only phone conversations (inbox.web.access), and on an ordinary line they must read her
# number to call her back; where Twilio Voice is configured they call without it (the bridge).
DEFAULT_REVEAL_ROLES = frozenset({Role.SUPERVISOR, Role.PHONE_STAFF})


@dataclass(frozen=True, slots=True, kw_only=True)
class AnonymityPolicy:
    default: Anonymity = Anonymity.PSEUDONYMOUS
    by_channel: tuple[tuple[ChannelKind, Anonymity], ...] = ()

    def mode(self, channel: ChannelKind, contact: Anonymity | None) -> Anonymity:
        """The contact's own setting wins; else her channel's; else the default."""
        if contact is not None:
            return contact
        return dict(self.by_channel).get(channel, self.default)


def shown_address(mode: Anonymity, address: str) -> str | None:
    """What the conversation view shows without a reveal: only an identified consulter's."""
    return address if mode is Anonymity.IDENTIFIED else None


def reveal_refusal(mode: Anonymity, user: User, reveal_roles: frozenset[Role]) -> str | None:
    """Why this user may not see the address; None when she may (with a reason, audited)."""
    if mode is Anonymity.ANONYMOUS:
        return "this consulter is anonymous: her address is never shown, to anyone"
    if mode is Anonymity.IDENTIFIED or not user.roles.isdisjoint(reveal_roles):
        return None
    allowed = ", ".join(sorted(reveal_roles)) or "no role"
    return f"revealing an address needs one of these roles: {allowed}"


def parse_anonymity(raw: object, where: str) -> AnonymityPolicy:
    """`anonymity = { default = "pseudonymous", webchat = "anonymous", phone = "identified" }`"""
    if not isinstance(raw, Mapping):
        raise ConfigError(f'{where}: expected a table like {{ default = "pseudonymous" }}')
    modes = ", ".join(m.value for m in Anonymity)
    channels = {c.value: c for c in ChannelKind}
    default = Anonymity.PSEUDONYMOUS
    by_channel = []
    for key, value in raw.items():
        if key != "default" and key not in channels:
            names = ", ".join(channels)
            raise ConfigError(f"{where}.{key}: neither default nor a channel ({names})")
        if value not in {m.value for m in Anonymity}:
            raise ConfigError(f"{where}.{key}: {value!r} is not one of {modes}")
        if key == "default":
            default = Anonymity(value)
        else:
            by_channel.append((channels[key], Anonymity(value)))
    return AnonymityPolicy(default=default, by_channel=tuple(by_channel))


def parse_reveal_roles(raw: object, where: str) -> frozenset[Role]:
    roles = {r.value for r in Role}
    if not isinstance(raw, list) or not all(isinstance(r, str) and r in roles for r in raw):
        raise ConfigError(f"{where}: expected a list of roles from {', '.join(sorted(roles))}")
    return frozenset(Role(r) for r in raw)
