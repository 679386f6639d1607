"""The synthetic web chat load of `tsunagu bench pipeline`, and the rows it must leave behind."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from inbox.app import utc_now
from inbox.core import model
from inbox.identity import identity_hash
from inbox.tools.bench_databases import COUNSELORS, Row, Table

TEXT = 2 * (  # consultation-like Japanese; each body is a 96-character window of it
    "最近よく眠れなくて、仕事のことでずっと悩んでいます。誰かに話を聞いてほしいです。家族とうまく"
    "いかず、学校に行くのがつらいです。どうしたらいいのか分かりません。少しだけ相談させてください。"
    "夜になると不安が強くなります。友達にも言えなくて、一人で抱えこんでしまいます。"
)
COLUMNS = {  # what the pipeline leaves behind, in foreign-key order
    "contacts": "id created_at",
    "channel_identities": "id contact_id channel identity_hash address created_at",
    "conversations": "id contact_id identity_id channel status assignee_id created_at "
    "updated_at queued_at last_inbound_at",
    "messages": "id conversation_id direction channel external_id body attachments "
    "delivery_status created_at",
    "events": "at kind conversation_id message_id data",
}


@dataclass(frozen=True, slots=True)
class Workload:
    """Synthetic web chat: mostly one message per sender, some senders write two or three times."""

    key: bytes
    messages: list[model.InboundMessage]
    conversations: int

    @classmethod
    def build(cls, n: int, label: str, key: bytes, seed: int) -> Workload:
        rng = random.Random(seed)
        senders: list[int] = []
        while len(senders) < n:
            senders += [len(senders)] * rng.choices((1, 2, 3), (80, 15, 5))[0]
        senders = senders[:n]
        rng.shuffle(senders)  # a repeat lands in the same batch as the first message or later
        t0 = datetime.now(UTC)
        messages = []
        for i, s in enumerate(senders):
            k = rng.randrange(len(TEXT) // 2)
            msg = model.InboundMessage(
                channel=model.ChannelKind.WEBCHAT,
                external_id=f"{label}-{i}",
                sender=f"wc-{label}-{s}",
                body=f"{TEXT[k : k + 96]}#{i:03d}",
                received_at=t0 + timedelta(microseconds=i),
            )
            messages.append(msg)
        return cls(key=key, messages=messages, conversations=len(set(senders)))

    def tables(self) -> list[Table]:
        """The rows the pipeline ends up with; ids in order of first appearance."""
        rows: dict[str, list[Row]] = {table: [] for table in COLUMNS}
        conv_of: dict[str, int] = {}
        first_at: dict[int, datetime] = {}
        last_at: dict[int, datetime] = {}
        for mid, m in enumerate(self.messages, start=1):
            at, channel = m.received_at, m.channel.value
            if (cid := conv_of.get(m.sender)) is None:
                cid = conv_of[m.sender] = len(conv_of) + 1
                first_at[cid] = at
                hashed = identity_hash(self.key, m.channel, m.sender)
                rows["contacts"].append((cid, at))
                rows["channel_identities"].append((cid, cid, channel, hashed, m.sender, at))
                rows["events"].append((at, "conversation_opened", cid, None, "{}"))
            last_at[cid] = at
            msg_row = (mid, cid, "inbound", channel, m.external_id, m.body, "[]", "received", at)
            rows["messages"].append(msg_row)
            data = json.dumps({"channel": channel})
            rows["events"].append((at, "message_received", cid, mid, data))
        now = utc_now()
        for cid, first in first_at.items():
            user = cid % COUNSELORS + 1
            row = (cid, cid, cid, "webchat", "assigned", user, first, now, first, last_at[cid])
            rows["conversations"].append(row)
            data = json.dumps({"user_id": user, "by": "router"})
            rows["events"].append((now, "conversation_assigned", cid, None, data))
        return [(table, cols.split(), rows[table]) for table, cols in COLUMNS.items()]
