"""No mail blocks the mailbox: a real Dovecot, the real intake. A mail holding what a database
refuses is stored cleaned (on both stores); one the store refuses even so is stored reduced or
set aside, and the mails after it are stored and marked as usual."""

from __future__ import annotations

import pytest

from channels.mail_imap import HANDLED_FLAG
from channels.mail_intake import WARNING_MARK
from inbox.core.model import InboundMessage
from storage.base import Store
from tests.fakes import RefusingIntake
from tests.mail.test_mail_channel import US, Rig, rig
from tests.mail.test_parse import raw

pytestmark = pytest.mark.mail
__all__ = ["rig"]  # the fixture, found here by pytest

NUL_SUBJECT = "=?utf-8?b?YQBi?="  # "a\x00b": PostgreSQL refuses the NUL


def mail(message_id: bytes | str, body: str, *, subject: str = "相談", sender: str = "") -> bytes:
    mid = message_id if isinstance(message_id, bytes) else message_id.encode()
    return raw(
        f"From: {sender or 'hanako@example.jp'}",
        f"To: {US}",
        f"Subject: {subject}",
        b"Message-ID: <" + mid + b">",
        "Content-Type: text/plain; charset=utf-8",
        body=body.encode(),
    )


@pytest.mark.both_stores  # PostgreSQL refuses a NUL that SQLite keeps
async def test_a_nul_subject_and_an_8bit_message_id_are_stored_and_so_is_the_next_mail(
    rig: Rig,
) -> None:
    uids = rig.account.deliver_many(
        [
            mail("nul@example.jp", "本文です\n", subject=NUL_SUBJECT),
            mail(b"\xff\xfe@example.jp", "八ビットの id\n"),  # surrogate-escaped when parsed
            mail("next@example.jp", "次のメール\n", sender="jiro@example.jp"),
        ]
    )
    assert await rig.catch_up() == 3
    assert [m.body for m in await rig.inbound()] == [
        "件名 / Subject: ab\n\n本文です",
        "件名 / Subject: 相談\n\n八ビットの id",
        "件名 / Subject: 相談\n\n次のメール",
    ]
    assert all(HANDLED_FLAG in rig.account.flags(uid) for uid in uids)


def refuse_bodies_with(store: Store, marker: str) -> RefusingIntake:
    return RefusingIntake(store, lambda msg: marker in msg.body, RuntimeError("refused"))


async def test_a_mail_the_store_refuses_is_stored_reduced_and_intake_moves_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rig.store, "save_inbound_batch", refuse_bodies_with(rig.store, "毒"))
    poisoned, after = rig.account.deliver_many(
        [mail("poison@example.jp", "毒のある本文\n"), mail("after@example.jp", "後のメール\n")]
    )
    assert await rig.catch_up() == 2
    stored_after, reduced = await rig.inbound()  # the reduced form is stored second
    assert reduced.body.startswith(WARNING_MARK) and f"IMAP UID {poisoned}" in reduced.body
    assert "毒" not in reduced.body and reduced.attachments == ()
    assert stored_after.body == "件名 / Subject: 相談\n\n後のメール"
    # the original stays unmarked where the note says; the cursor has moved past it
    assert HANDLED_FLAG not in rig.account.flags(poisoned)
    assert HANDLED_FLAG in rig.account.flags(after)
    assert await rig.catch_up() == 0
    assert len(await rig.inbound()) == 2


async def test_a_mail_refused_even_reduced_is_set_aside_for_the_supervisors(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def from_mallory(msg: InboundMessage) -> bool:
        return msg.sender == "mallory@example.jp"

    refusing = RefusingIntake(rig.store, from_mallory, ValueError("refused"))
    monkeypatch.setattr(rig.store, "save_inbound_batch", refusing)
    aside, after = rig.account.deliver_many(
        [
            mail("aside@example.jp", "本文\n", sender="mallory@example.jp"),
            mail("fine@example.jp", "届きました\n"),
        ]
    )
    assert await rig.catch_up() == 1
    assert [m.body for m in await rig.inbound()] == ["件名 / Subject: 相談\n\n届きました"]
    (event,) = [e for e in await rig.store.list_events() if e.kind == "mail_set_aside"]
    assert event.data == {"mailbox": "INBOX", "uid": aside}
    assert HANDLED_FLAG not in rig.account.flags(aside)
    assert HANDLED_FLAG in rig.account.flags(after)
    assert await rig.catch_up() == 0  # not fetched again: it never blocks later mail
    rig.account.deliver(mail("later@example.jp", "その後\n"))
    assert await rig.catch_up() == 1
