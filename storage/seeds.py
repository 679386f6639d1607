"""What a new database starts with (written by a migration, once, on first start): a few canned
replies a counseling desk uses every day, in Japanese and English. Supervisors edit or delete
them; they never come back."""

from __future__ import annotations

# (title_ja, title_en, body_ja, body_en), in the order shown
CANNED_REPLIES: tuple[tuple[str, str, str, str], ...] = (
    (
        "はじめのあいさつ",
        "Greeting",
        "ご連絡ありがとうございます。相談員がお話をうかがいます。"
        "ここでは安心してお話しください。ご自身のペースで大丈夫です。",
        "Thank you for reaching out. A counselor is here to listen. "
        "This is a safe place to talk, and you can take your time.",
    ),
    (
        "状況をうかがう",
        "Asking about the situation",
        "差し支えなければ、いまどのような状況か教えていただけますか。話せる範囲で大丈夫です。",
        "If you don't mind, could you tell me what is happening now? "
        "Only as much as you feel comfortable sharing.",
    ),
    (
        "安全の確認",
        "Safety check",
        "いま、安全な場所にいますか。危険が迫っているときは、すぐに110番（警察）"
        "または119番（救急）に連絡してください。",
        "Are you somewhere safe right now? If you are in danger, please call 110 (police) "
        "or 119 (ambulance) right away.",
    ),
    (
        "お返事に時間がかかるとき",
        "When a reply takes time",
        "お返事まで少しお時間をいただいています。必ずお返事しますので、少しお待ちください。",
        "It is taking us a little time to reply. We will answer you, so please wait a moment.",
    ),
    (
        "終わりのあいさつ",
        "Closing",
        "お話ししてくださり、ありがとうございました。また困ったときは、いつでもご連絡ください。",
        "Thank you for talking with us. Please contact us again whenever you need to.",
    ),
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def canned_replies_sql(now: str) -> str:
    """The INSERT of the seeded canned replies, `now` the dialect's expression of the time."""
    rows = ",\n".join(
        f"({', '.join(_literal(t) for t in texts)}, {i}, {now})"
        for i, texts in enumerate(CANNED_REPLIES, start=1)
    )
    return (
        "INSERT INTO canned_replies (title_ja, title_en, body_ja, body_en, position, updated_at)"
        f"\nVALUES {rows};\n"
    )
