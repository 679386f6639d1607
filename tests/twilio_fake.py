"""A local stand-in for Twilio's REST API (Messages.json, and Voice's Calls.json), on 127.0.0.1
port 0.

It records every request (method, path, form, Authorization) and answers 201 with a message
resource; `fail_next` scripts an error answer for the next requests: Twilio's JSON error
({"code": 21610, "message": ..., "status": 400}), a 429 or a 500. Calls.json can be held
(`hold_calls`: it answers only once `release` is set; the request is recorded first) and given
the CallSid to answer with (`next_call_sid`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from inbox.tools.bench_open_loop import stand_in_server

MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"
CALLS_PATH = "/2010-04-01/Accounts/{sid}/Calls.json"


@dataclass(frozen=True, slots=True)
class SeenRequest:
    method: str
    path: str
    form: dict[str, str]  # the last value of each field
    authorization: str
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value, as sent


@dataclass(slots=True)
class Scripted:
    status: int
    code: int | None
    times: int


@dataclass
class TwilioFake:
    url: str = ""
    requests: list[SeenRequest] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    _script: list[Scripted] = field(default_factory=list)
    # Awaited with (form, the new SID) before a message is answered: lets a test play Twilio
    # calling the status callback before its answer to create has been recorded.
    before_answer: Callable[[dict[str, str], str], Awaitable[None]] | None = None
    next_call_sid: str | None = None
    release: asyncio.Event | None = None  # set: Calls.json waits for it

    def hold_calls(self) -> asyncio.Event:
        """Calls.json answers only after the returned event is set (a hung Twilio)."""
        self.release = asyncio.Event()
        return self.release

    def fail_next(self, status: int, code: int | None = None, *, times: int = 1) -> None:
        """Answer the next `times` requests with this error (after any scripted earlier)."""
        self._script.append(Scripted(status, code, times))

    async def messages(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(
            SeenRequest(
                request.method, request.path, form, request.headers.get("Authorization", "")
            )
        )
        if self._script:
            step = self._script[0]
            step.times -= 1
            if step.times <= 0:
                self._script.pop(0)
            return self._error(step)
        sid = "SM" + secrets.token_hex(16)
        self.sids.append(sid)
        if self.before_answer is not None:
            await self.before_answer(form, sid)
        account = request.match_info["sid"]
        return web.json_response(
            {
                "sid": sid,
                "account_sid": account,
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
            status=201,
        )

    async def calls(self, request: web.Request) -> web.Response:
        """Voice's calls.create: 201 with a call resource (the form is recorded as sent)."""
        posted = await request.post()
        form = {k: str(v) for k, v in posted.items()}
        lists: dict[str, list[str]] = {}
        for k, v in posted.items():
            lists.setdefault(k, []).append(str(v))
        self.requests.append(
            SeenRequest(
                request.method, request.path, form, request.headers.get("Authorization", ""), lists
            )
        )
        if self._script:
            step = self._script[0]
            step.times -= 1
            if step.times <= 0:
                self._script.pop(0)
            return self._error(step)
        if self.release is not None:
            await self.release.wait()
        sid, self.next_call_sid = self.next_call_sid or "CA" + secrets.token_hex(16), None
        self.sids.append(sid)
        account = request.match_info["sid"]
        return web.json_response(
            {
                "sid": sid,
                "account_sid": account,
                "to": form.get("To"),
                "from": form.get("From"),
                "status": "queued",
                "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json",
            },
            status=201,
        )

    @staticmethod
    def _error(step: Scripted) -> web.Response:
        if step.code is None and step.status >= 500:
            return web.Response(status=step.status, text="upstream trouble")
        body = {
            "code": step.code if step.code is not None else 20429,
            # Twilio's messages quote the number: the channel must not keep them
            "message": "The 'To' number +819012345678 is not reachable",
            "more_info": f"https://www.twilio.com/docs/errors/{step.code}",
            "status": step.status,
        }
        return web.json_response(body, status=step.status)


@asynccontextmanager
async def twilio_fake() -> AsyncIterator[TwilioFake]:
    fake = TwilioFake()
    app = web.Application()
    app.router.add_post(MESSAGES_PATH, fake.messages)
    app.router.add_post(CALLS_PATH, fake.calls)
    async with stand_in_server(app) as fake.url:
        yield fake
