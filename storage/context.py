"""The counselor's context, written once: a consulter's conversations as one timeline, a page of
one conversation's messages, and search over conversations.

Text search differs by dialect only in its index: PostgreSQL's pg_trgm GIN index under `ILIKE`,
kept by PostgreSQL; SQLite's FTS5 table with the trigram tokenizer (messages_fts, schema version
6), kept by the search-index worker (index_text) up to search_index.indexed_upto, so that the
intake does not pay for it: the few newer messages are read with LIKE first (they are the
newest), then the index. Both answer with the newest matching message first, one line per
conversation: a hit is skipped when a newer message of its conversation matches too (that one
stood earlier). A text under three characters has no trigram: it is looked for with LIKE in the
latest `recent_messages` messages only, a bounded scan, and the page says so (scope "recent").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inbox.core.context import (
    TRIGRAM,
    ConversationSummary,
    SearchHit,
    SearchPage,
    SearchQuery,
    fts_phrase,
    like_pattern,
    snippet,
)
from inbox.core.model import ContactId, ConversationId, Message, MessageId, UserId
from storage import rows
from storage.desk import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, get_conversation
from storage.rows import Row
from storage.sql import Database, Dialects, Tx

_C_COLUMNS = ", ".join(f"c.{name.strip()}" for name in CONVERSATION_COLUMNS.split(","))
_N_CONVERSATION = len(CONVERSATION_COLUMNS.split(","))
# Who handled it: the assignee, else the author of the last reply (a conversation closed from the
# queue keeps none); and how many messages went each way.
SUMMARY_COLUMNS = f"""{_C_COLUMNS}, h.id, h.display_name,
    (SELECT count(*) FROM messages n WHERE n.conversation_id = c.id AND n.direction <> 'note')"""
HANDLER_JOIN = """
LEFT JOIN users h ON h.id = coalesce(c.assignee_id, (
    SELECT r.author_id FROM messages r
    WHERE r.conversation_id = c.id AND r.direction = 'outbound' AND r.author_id IS NOT NULL
    ORDER BY r.id DESC LIMIT 1))"""
TIMELINE = f"""
SELECT {SUMMARY_COLUMNS} FROM conversations c {HANDLER_JOIN}
WHERE c.contact_id = $1 AND (CAST($2 AS bigint) IS NULL OR c.id < $2)
ORDER BY c.id DESC LIMIT $3
"""
MESSAGE_PAGE = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE conversation_id = $1 AND ($2 OR direction <> 'note')
  AND (CAST($3 AS bigint) IS NULL OR id < $3)
ORDER BY id DESC LIMIT $4
"""
# SQLite's search index, kept by the search-index worker (the dialect that has one).
INDEXED_UPTO = "SELECT indexed_upto FROM search_index"
NEXT_UPTO = "SELECT max(id) FROM (SELECT id FROM messages WHERE id > $1 ORDER BY id LIMIT $2)"
INDEX_MESSAGES = """
INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > $1 AND id <= $2
"""
SET_INDEXED_UPTO = "UPDATE search_index SET indexed_upto = $1"
COUNT_BETWEEN = "SELECT count(*) FROM messages WHERE id > $1 AND id <= $2"
AUTHORED_IN = "SELECT 1 FROM messages WHERE author_id = $1 AND conversation_id = $2 LIMIT 1"

# Search is put together from these, each clause with its own placeholder: the filters a query
# leaves out are not in its text, so each plan is made for the filters it has.
_LIKE = Dialects(postgres="ILIKE", sqlite="LIKE")
_IN_LIST = Dialects(
    postgres="= ANY(CAST({} AS text[]))", sqlite="IN (SELECT value FROM json_each({}))"
)
_HAS_TAG = Dialects(
    postgres="{} = ANY(c.tags)",
    sqlite="EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = {})",
)
_VISIBLE_TO = """(c.assignee_id = {0}
    OR EXISTS (SELECT 1 FROM messages w WHERE w.author_id = {0} AND w.conversation_id = c.id))"""
# On c.id, not m.conversation_id: so it is checked after the conversation's own filters (the
# cheap ones, a counselor's above all), not for every hit of the text.
_NEWER_HIT = """NOT EXISTS (SELECT 1 FROM messages m2
    WHERE m2.conversation_id = c.id AND m2.id > m.id
      AND m2.body {like} {pattern} ESCAPE '\\')"""


class _Query:
    """One search statement's text in one dialect and its arguments, numbered as they come."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.args: list[Any] = []
        self.where: list[str] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def pick(self, text: Dialects) -> str:
        return text.postgres if self.dialect == "postgres" else text.sqlite

    def conversation_filters(self, q: SearchQuery) -> None:
        if q.contact_id is not None:
            self.where.append(f"c.contact_id = {self.arg(q.contact_id)}")
        if q.tag is not None:
            self.where.append(self.pick(_HAS_TAG).format(self.arg(q.tag)))
        if q.statuses:
            statuses = self.arg([str(s) for s in q.statuses])
            self.where.append(f"c.status {self.pick(_IN_LIST).format(statuses)}")
        if q.channels:
            channels = self.arg([str(ch) for ch in q.channels])
            self.where.append(f"c.channel {self.pick(_IN_LIST).format(channels)}")
        if q.created_from is not None:
            self.where.append(f"c.created_at >= {self.arg(q.created_from)}")
        if q.created_before is not None:
            self.where.append(f"c.created_at < {self.arg(q.created_before)}")
        if q.visible_to is not None:
            self.where.append(_VISIBLE_TO.format(self.arg(q.visible_to)))


def search_statements(q: SearchQuery, dialect: str) -> tuple[list[tuple[str, list[Any]]], bool]:
    """The statements to run in order until a page is full, each with its arguments, and
    whether the text was searched in recent messages only."""
    text = q.text
    if not text:
        s = _Query(dialect)
        s.conversation_filters(q)
        if q.before is not None:
            s.where.append(f"c.id < {s.arg(q.before)}")
        where = " AND ".join(s.where) or "TRUE"
        sql = f"""SELECT {SUMMARY_COLUMNS}, NULL, NULL FROM conversations c {HANDLER_JOIN}
WHERE {where} ORDER BY c.id DESC LIMIT {s.arg(q.limit)}"""
        return [(sql, s.args)], False
    if len(text) < TRIGRAM:
        recent = "m.id > (SELECT coalesce(max(id), 0) FROM messages) - {recent}"
        return [_text_statement(q, dialect, text, recent, indexed=False)], True
    if dialect == "postgres":
        return [_text_statement(q, dialect, text, None, indexed=False)], False
    return [
        _text_statement(q, dialect, text, f"m.id > ({_INDEXED_UPTO})", indexed=False),
        _text_statement(q, dialect, text, f"f.rowid <= ({_INDEXED_UPTO})", indexed=True),
    ], False


_INDEXED_UPTO = "SELECT indexed_upto FROM search_index"


def _text_statement(
    q: SearchQuery, dialect: str, text: str, scope: str | None, *, indexed: bool
) -> tuple[str, list[Any]]:
    """Hits of `text` newest first: by LIKE (ILIKE) over the messages, or (indexed) by SQLite's
    FTS5 index, which hands rowids out newest first itself, without a sort."""
    s = _Query(dialect)
    like = s.pick(_LIKE)
    pattern = s.arg(like_pattern(text))
    if indexed:
        source = "messages_fts f JOIN messages m ON m.id = f.rowid"
        s.where.append(f"messages_fts MATCH {s.arg(fts_phrase(text))}")
        order = "f.rowid"
    else:
        source = "messages m"
        s.where.append(f"m.body {like} {pattern} ESCAPE '\\'")
        order = "m.id"
    if scope is not None:  # only a scope that names {recent} takes it as an argument
        recent = s.arg(q.recent_messages) if "{recent}" in scope else ""
        s.where.append(scope.format(recent=recent))
    if q.before is not None:
        s.where.append(f"{order} < {s.arg(q.before)}")
    s.conversation_filters(q)
    s.where.append(_NEWER_HIT.format(like=like, pattern=pattern))
    sql = f"""SELECT {SUMMARY_COLUMNS}, m.id, m.body
FROM {source} JOIN conversations c ON c.id = m.conversation_id {HANDLER_JOIN}
WHERE {" AND ".join(s.where)} ORDER BY {order} DESC LIMIT {s.arg(q.limit)}"""
    return sql, s.args


def summary(row: Sequence[Any], parse: rows.TimeParser) -> ConversationSummary:
    """Columns: SUMMARY_COLUMNS."""
    n = _N_CONVERSATION
    return ConversationSummary(
        conversation=rows.conversation(row[:n], parse),
        handled_by=None if row[n] is None else UserId(row[n]),
        handled_by_name=row[n + 1],
        message_count=int(row[n + 2]),
    )


class Context:
    """The context's Store operations, the same on both stores, over the store's Database."""

    _db: Database
    _dialect: str  # "sqlite" or "postgres": which text-search statement to build

    async def consulter_timeline(
        self, contact_id: ContactId, *, before: ConversationId | None = None, limit: int = 50
    ) -> list[ConversationSummary]:
        found = await self._db.read(lambda tx: tx.fetch(TIMELINE, contact_id, before, limit))
        return [summary(r, self._db.parse_time) for r in found]

    async def message_page(
        self,
        conversation_id: ConversationId,
        *,
        before: MessageId | None = None,
        limit: int = 50,
        include_notes: bool = True,
    ) -> list[Message]:
        async def op(tx: Tx) -> list[Message]:
            await get_conversation(tx, conversation_id)
            found = await tx.fetch(MESSAGE_PAGE, conversation_id, include_notes, before, limit)
            return [rows.message(r, tx.parse_time) for r in reversed(found)]

        return await self._db.read(op)

    async def index_text(self, *, limit: int = 500) -> int:
        if self._dialect == "postgres":
            return 0  # PostgreSQL keeps its trigram index itself

        async def op(tx: Tx) -> int:
            done = await tx.fetchval(INDEXED_UPTO)
            upto = await tx.fetchval(NEXT_UPTO, done, limit)
            if upto is None:
                return 0
            await tx.execute(INDEX_MESSAGES, done, upto)
            await tx.execute(SET_INDEXED_UPTO, upto)
            return int(await tx.fetchval(COUNT_BETWEEN, done, upto))

        return await self._db.write(op)

    async def authored_in(self, conversation_id: ConversationId, user_id: UserId) -> bool:
        found = await self._db.read(lambda tx: tx.fetchval(AUTHORED_IN, user_id, conversation_id))
        return found is not None

    async def search(self, query: SearchQuery) -> SearchPage:
        statements, short = search_statements(query, self._dialect)

        async def op(tx: Tx) -> list[Row]:
            found: list[Row] = []
            for sql, args in statements:
                found += await tx.fetch(sql, *args)
                if len(found) >= query.limit:
                    break
            return found[: query.limit]

        found = await self._db.read(op)
        n = _N_CONVERSATION + 3
        text = query.text or ""
        hits = [
            SearchHit(
                summary=summary(r, self._db.parse_time),
                message_id=None if r[n] is None else MessageId(r[n]),
                snippet=None if r[n + 1] is None else snippet(r[n + 1], text),
            )
            for r in found
        ]
        next_before: int | None = None
        if len(hits) == query.limit:
            last = hits[-1]
            next_before = last.message_id if query.text else last.summary.conversation.id
        return SearchPage(hits=hits, next_before=next_before, scope="recent" if short else "all")
