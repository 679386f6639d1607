"""The pure steps of batch intake that both stores share; only the SQL between them differs."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

from inbox.core.decisions import Assign
from inbox.core.model import (
    NO_LABELS,
    ChannelKind,
    ConversationId,
    IntakeLabels,
    MessageId,
    StoredInbound,
)
from storage.base import KeyedInbound
from storage.events import EventRow

Key = tuple[str, str]  # (channel, external_id) or (channel, identity_hash)
_NONE_ASSIGNED: Mapping[int, Assign] = {}


# str() of a ChannelKind (a StrEnum) is its value, five times quicker than .value: these run
# several times per message.
def message_keys(items: Sequence[KeyedInbound]) -> list[Key]:
    return [(str(i.message.channel), i.message.external_id) for i in items]


def identity_key(item: KeyedInbound) -> Key:
    return (str(item.message.channel), item.identity_hash)


def fresh_items(
    keys: Sequence[Key], items: Sequence[KeyedInbound], stored: Mapping[Key, object]
) -> dict[Key, KeyedInbound]:
    """The messages not stored yet; a repeat inside the batch is a duplicate of the first."""
    fresh: dict[Key, KeyedInbound] = {}
    for key, item in zip(keys, items, strict=True):
        if key not in stored:
            fresh.setdefault(key, item)
    return fresh


THREAD_JOINED = "thread_joined"
THREAD_JOINED_DATA = json.dumps({"other_address": True})
# The rules' reply templates a message asked for, recorded with it: the auto-replier queues
# them only after the commit, so a restart finds them here (Store.due_rule_replies).
REPLY_DUE = "auto_reply_due"


def reply_due_data(templates: tuple[str, ...]) -> str:
    return json.dumps({"templates": list(templates)}, ensure_ascii=False)


ALERTED = "supervisors_alerted"
_CHANNEL_DATA = {c.value: json.dumps({"channel": c.value}) for c in ChannelKind}


def message_events(
    at: datetime | str,
    conversation_id: int,
    message_id: int,
    channel: str,
    *,
    joined: bool,
    alert: str | None,
    templates: tuple[str, ...],
) -> list[EventRow]:
    """A new message's events (no body, no address): received; joined a thread from another
    address; alerted the supervisors; asked for rule replies (so that a restart finds them,
    AutoReplier.recover)."""
    c, m = conversation_id, message_id
    found = [EventRow(at, "message_received", None, c, m, _CHANNEL_DATA[channel])]
    if joined:
        found.append(EventRow(at, THREAD_JOINED, None, c, m, THREAD_JOINED_DATA))
    if alert is not None:
        found.append(EventRow(at, ALERTED, None, c, m, json.dumps({"reason": alert})))
    if templates:
        found.append(EventRow(at, REPLY_DUE, None, c, m, reply_due_data(templates)))
    return found


# Appended to such a message's body, so the counselor reading it sees it (mail_intake marks its
# parser warnings the same way): it may be her, from work, or someone who read her mail.
OTHER_ADDRESS_NOTE = (
    "[tsunagu] この会話への返信として、別のアドレスから届きました。"
    " / Sent as a reply in this conversation, from another address."
)


def hinted_conversations(items: Iterable[KeyedInbound]) -> list[int]:
    """The conversations that these messages say they answer (InboundMessage.conversation_hint)."""
    return sorted({h for i in items if (h := i.message.conversation_hint) is not None})


def follow_threads(
    fresh: dict[Key, KeyedInbound], owners: Mapping[int, tuple[str, str]]
) -> set[Key]:
    """Give each message whose hinted conversation is still open (`owners`: conversation id ->
    its channel and identity hash) that conversation's identity, in place, so the threading
    below puts it there. Returns the messages that came from another address than the
    conversation's: they get a thread_joined event. A hint to a closed or unknown conversation,
    or to one on another channel, is ignored and the sender's own address decides."""
    other: set[Key] = set()
    for key, item in fresh.items():
        hint = item.message.conversation_hint
        if hint is None or (owner := owners.get(hint)) is None or owner[0] != key[0]:
            continue
        if owner[1] != item.identity_hash:
            noted = f"{item.message.body}\n\n{OTHER_ADDRESS_NOTE}"
            message = dataclasses.replace(item.message, body=noted)
            fresh[key] = dataclasses.replace(item, message=message, identity_hash=owner[1])
            other.add(key)
    return other


def first_per_identity(
    items: Sequence[KeyedInbound], identity_of: Mapping[Key, tuple[int, int]]
) -> dict[int, KeyedInbound]:
    """identity id -> its first message in the batch, which opens a conversation if needed."""
    first: dict[int, KeyedInbound] = {}
    for item in items:
        first.setdefault(identity_of[identity_key(item)][0], item)
    return first


def labels_per_identity(items: Sequence[KeyedInbound]) -> dict[Key, IntakeLabels]:
    """What the rules decided for each sender's messages in this batch, merged the way the
    conversation takes them: the highest priority, the first skill, team and language, every
    tag."""
    merged: dict[Key, IntakeLabels] = {}
    for item in items:
        new = item.labels
        if new is NO_LABELS or new == NO_LABELS:  # most messages: the shared instance
            continue
        key = identity_key(item)
        old = merged.get(key, NO_LABELS)
        merged[key] = IntakeLabels(
            priority=max(old.priority, new.priority),
            skill=old.skill or new.skill,
            team=old.team or new.team,
            language=old.language or new.language,
            tags=old.tags | new.tags,
        )
    return merged


def attachments_json(item: KeyedInbound) -> str:
    """messages.attachments: every attachment, also those refused; "stored" tells which ones
    the attachments table holds (see attachment_rows)."""
    if not item.message.attachments:
        return "[]"  # most messages: no json.dumps on the hot path
    return json.dumps(
        [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size_bytes": a.size_bytes,
                "stored": a.content is not None,
            }
            for a in item.message.attachments
        ],
        ensure_ascii=False,
    )


AttachmentRow = tuple[int, int, str, str, int, bytes]  # message id, position, ..., content


def attachment_rows(message_id: int, item: KeyedInbound) -> list[AttachmentRow]:
    """The attachments table's rows for a new message: those with content, at their position
    in messages.attachments. Callers skip the call for messages without attachments."""
    return [
        (message_id, position, a.filename, a.content_type, a.size_bytes, a.content)
        for position, a in enumerate(item.message.attachments)
        if a.content is not None
    ]


def answers(
    keys: Sequence[Key],
    stored: Mapping[Key, tuple[MessageId, ConversationId]],
    new_keys: set[Key],
    other_address: AbstractSet[Key] = frozenset(),
    *,
    assigned: Mapping[int, Assign] = _NONE_ASSIGNED,
    unassigned: AbstractSet[int] = frozenset(),
    requeued: AbstractSet[int] = frozenset(),
) -> list[StoredInbound]:
    """One answer per submitted message, in order; only the first occurrence of a new one is
    not a duplicate, and only new ones say what routing at intake did (`assigned`, by
    conversation) and whether their conversation is left without an assignee."""
    pending = set(new_keys)
    out = []
    for key in keys:
        message_id, conversation_id = stored[key]
        new = key in pending
        given = assigned.get(conversation_id) if new and assigned else None
        out.append(
            StoredInbound(
                message_id=message_id,
                conversation_id=conversation_id,
                duplicate=not new,
                other_address=new and key in other_address,
                assigned_to=None if given is None else given.user_id,
                queued=new and conversation_id in unassigned,
                requeued=new and conversation_id in requeued,
            )
        )
        pending.discard(key)
    return out
