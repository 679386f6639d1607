"""The OpenAPI document: it lists exactly the app's /api routes, and schemathesis, sending what it
describes (and what it forbids) to a real server, finds no 5xx and no undocumented answer."""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err, Ok

from inbox.assembly import assemble
from inbox.auth import new_secret, secret_hash
from inbox.config import Config
from inbox.core.model import Attachment, Role
from inbox.web.application import build_app
from inbox.web.openapi import OPENAPI_PATH, openapi_document
from storage.sqlite.store import SqliteStore
from tests.factories import T0, inbound, new_user
from tests.web.conftest import add_staff, make_config

# Examples per operation and mode: ~450 requests, about 25 s on a 2-core machine under load 12.
EXAMPLES = 10
SEEDED_IDS = (1, 2, 3)  # conversations, messages and users the server starts with
# Each valid new account hashes its password with argon2id (about a second under load).
FEWER_EXAMPLES = {("POST /api/users", GenerationMode.POSITIVE): 3}
METHODS = {"get", "put", "post", "patch", "delete"}


async def test_the_document_lists_every_api_route(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    assert cfg.database.sqlite_path is not None
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(SqliteStore(cfg.database.sqlite_path))
        await store.migrate()
        parts = await assemble(cfg, store, b"k" * 32, stack=stack, clock=lambda: T0)
        app = build_app(parts.services)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method.lower() in METHODS
    }
    documented = {
        (method, path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }
    assert documented == served


@dataclasses.dataclass
class LiveServer:
    url: str
    token: str


async def _add_root(cfg: Config) -> str:
    """Every role, signed in by an API token (no cookie, so no CSRF header to forge)."""
    assert cfg.database.sqlite_path is not None
    await add_staff(cfg)
    token = new_secret("tsu_")
    async with SqliteStore(cfg.database.sqlite_path) as store:
        user = await store.create_user(new_user("schemathesis-root", roles=frozenset(Role)), now=T0)
        await store.create_api_token(secret_hash(token), user.id, name="fuzz", now=T0)
        pdf = Attachment(
            filename="a.pdf", content_type="application/pdf", size_bytes=3, content=b"%PD"
        )
        await store.save_inbound_batch(
            [inbound(f"c{i}@example.jp", attachments=(pdf,)) for i in range(len(SEEDED_IDS))]
        )
    return token


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """inbox.app.serve in a thread of its own: schemathesis calls it with blocking requests,
    which would stall a server running in the test's own event loop."""
    from inbox.app import serve

    cfg = make_config(tmp_path)
    token = asyncio.run(_add_root(cfg))
    ready: queue.Queue[str] = queue.Queue()
    stopping: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def run() -> None:
        stop = asyncio.Event()
        stopping.append((asyncio.get_running_loop(), stop))
        await serve(cfg, stop, on_ready=ready.put)

    thread = threading.Thread(target=asyncio.run, args=(run(),), name="live-server")
    thread.start()
    try:
        yield LiveServer(url=ready.get(timeout=30), token=token)
    finally:
        loop, stop = stopping[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop"


def _steered(
    strategy: st.SearchStrategy[schemathesis.Case[Any]],
) -> st.SearchStrategy[schemathesis.Case[Any]]:
    """Half the cases name records that exist (random ids almost never do), so the handlers
    behind the look-up get the generated bodies too."""

    def existing(case: schemathesis.Case[Any], ids: dict[str, int]) -> schemathesis.Case[Any]:
        if case.path_parameters:
            case.path_parameters.update({k: v for k, v in ids.items() if k in case.path_parameters})
        return case

    seeded = st.fixed_dictionaries(
        {name: st.sampled_from(SEEDED_IDS) for name in ("id", "message_id")}
        | {"position": st.just(0), "username": st.just("sato"), "channel": st.just("mail")}
    )
    return strategy | st.builds(existing, strategy, seeded)


def _modes(operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> list[GenerationMode]:
    """Valid input always; invalid input where there is any to give (a path, a query, a body)."""
    if operation.path_parameters or operation.query or operation.body:
        return list(GenerationMode)
    return [GenerationMode.POSITIVE]


SHARDS = 3  # the operations in three tests, each with its own server: they run side by side


@pytest.mark.timeout(120)  # ~15 s a shard alone; a machine shared with other suites may take more
@pytest.mark.parametrize("shard", range(SHARDS))
def test_schemathesis_finds_no_server_error(live_server: LiveServer, shard: int) -> None:
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {live_server.token}"
        served = http.get(live_server.url + OPENAPI_PATH, timeout=10)
        assert served.status_code == 200
        schema = schemathesis.openapi.from_dict(served.json())
        checks = [
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
        results = list(schema.get_all_operations())
        operations = [r.ok() for r in results if isinstance(r, Ok)]
        assert len(operations) == len(results), [r.err() for r in results if isinstance(r, Err)]
        assert len(operations) == sum(len(ops) for ops in openapi_document()["paths"].values())
        for operation in operations[shard::SHARDS]:
            if operation.path == "/api/ws":
                continue  # a websocket handshake: tests/web/test_hostile.py sends its frames
            for mode in _modes(operation):

                @given(case=_steered(operation.as_strategy(generation_mode=mode)))
                @settings(
                    max_examples=FEWER_EXAMPLES.get((operation.label, mode), EXAMPLES),
                    deadline=None,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                def call(case: schemathesis.Case[Any]) -> None:
                    case.call_and_validate(
                        base_url=live_server.url, session=http, checks=checks, timeout=10
                    )

                call()
