"""The chaos suite's load: channel systems handing in contacts and agents working them, over the
same HTTP and SSE surfaces the real ones use, each writing down what it saw in a `Ledger`.

A channel system hands in signed emails and calls and, like a real one, sends a request again
(signed anew) until it is answered 202: a contact counts as acknowledged only then. An agent signs
in, goes available and follows their event stream, resuming it with Last-Event-ID when it drops;
they accept every offer, and wrap up every contact assigned to them after a short handling time
(a call is first answered and ended at the "PBX", through intake).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from switchboard.common.settings import Settings
from switchboard.common.signing import signed_headers

RETRY_FOR = 120.0
"""How long a channel system or an agent keeps trying one request before giving up on it."""


@dataclass
class Handed:
    channel: str
    external_id: str
    acknowledged_at: float


@dataclass
class Ledger:
    """What the outside world saw."""

    acknowledged: dict[str, Handed] = field(default_factory=dict)
    answers: list[tuple[float, str, int | str]] = field(default_factory=list)
    """(when, which surface, status code or error) of every request made."""
    accepted: set[str] = field(default_factory=set)
    wrapped: set[str] = field(default_factory=set)
    given_up: list[str] = field(default_factory=list)
    """Requests that found no 2xx within `RETRY_FOR`."""
    stream_problems: list[str] = field(default_factory=list)
    """Event ids an agent's stream skipped or repeated."""

    def server_errors(self, start: float, end: float) -> dict[str, int]:
        """5xx answers and failed connections between `start` and `end`, per surface and answer
        (`intake 503`, `desktop ConnectError` ...)."""
        counts: dict[str, int] = {}
        for at, surface, answer in self.answers:
            if start <= at <= end and (not isinstance(answer, int) or answer >= 500):
                key = f"{surface} {answer}"
                counts[key] = counts.get(key, 0) + 1
        return counts


async def _with_retries(
    ledger: Ledger, surface: str, what: str, send: Any, *, done: tuple[int, ...] = (202,)
) -> httpx.Response | None:
    """`send()` again until it is answered with one of `done` (or another 4xx, which no retry
    changes); None when it never was."""
    deadline = time.monotonic() + RETRY_FOR
    pause = 0.2
    while time.monotonic() < deadline:
        try:
            response: httpx.Response = await send()
        except httpx.HTTPError as error:
            ledger.answers.append((time.monotonic(), surface, type(error).__name__))
        else:
            ledger.answers.append((time.monotonic(), surface, response.status_code))
            if response.status_code in done or 400 <= response.status_code < 500:
                return response
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
    ledger.given_up.append(what)
    return None


class ChannelSystems:
    """The mail gateway and the PBX of the demo tenant."""

    def __init__(
        self,
        settings: Settings,
        credentials: dict[str, Any],
        ledger: Ledger,
        client: httpx.AsyncClient,
    ) -> None:
        self.settings, self.ledger, self.client = settings, ledger, client
        tenant = credentials["operator_tenant"]
        self.address = credentials["tenants"][tenant]["email"]
        self.phone = credentials["tenants"][tenant]["phone"]
        self.systems = {k: v["secret"] for k, v in credentials["channel_systems"].items()}
        self.mail_system = next(k for k in self.systems if k.endswith("mail"))
        self.cti_system = next(k for k in self.systems if k.endswith("cti"))
        self.calls: dict[str, str] = {}
        """contact id → call id."""

    async def _post(
        self, path: str, body: bytes, content_type: str, system: str, what: str
    ) -> httpx.Response | None:
        url = self.settings.base_url("intake") + path

        async def send() -> httpx.Response:
            headers = {
                "Content-Type": content_type,
                **signed_headers(system, self.systems[system], body),
            }
            return await self.client.post(url, content=body, headers=headers)

        return await _with_retries(self.ledger, "intake", what, send)

    async def email(self, n: int) -> None:
        message = EmailMessage()
        message["From"] = f"Customer {n} <customer{n}@example.net>"
        message["To"] = self.address
        message["Subject"] = f"Chaos contact {n}"
        message["Message-ID"] = message_id = make_msgid(domain="chaos.example.net")
        message.set_content(f"Please help with request {n}.")
        answer = await self._post(
            "/v1/email", message.as_bytes(), "message/rfc822", self.mail_system, f"email {n}"
        )
        self._acknowledged(answer, "email", message_id)

    async def call(self, n: int) -> None:
        call_id = f"chaos-call-{n}-{random.getrandbits(32):08x}"
        answer = await self._cti(
            {
                "event": "offered",
                "call_id": call_id,
                "dnis": self.phone,
                "ani": f"0412 000 {n % 1000:03d}",
            },
            f"call {n}",
        )
        contact_id = self._acknowledged(answer, "phone", call_id)
        if contact_id is not None:
            self.calls[contact_id] = call_id

    async def connect_and_end(self, contact_id: str) -> None:
        """The PBX bridges the call to the agent, then the caller hangs up."""
        call_id = self.calls.get(contact_id)
        if call_id is None:
            return
        await self._cti({"event": "answered", "call_id": call_id}, f"answer {call_id}")
        await self._cti(
            {"event": "ended", "call_id": call_id, "duration_seconds": 30}, f"end {call_id}"
        )

    async def _cti(self, event: dict[str, Any], what: str) -> httpx.Response | None:
        body = json.dumps({"at": datetime.now(UTC).isoformat(), **event}).encode()
        return await self._post("/v1/phone/events", body, "application/json", self.cti_system, what)

    def _acknowledged(
        self, answer: httpx.Response | None, channel: str, external: str
    ) -> str | None:
        if answer is None or answer.status_code != 202:
            return None
        contact_id = str(answer.json()["contact_id"])
        self.ledger.acknowledged[contact_id] = Handed(channel, external, time.monotonic())
        return contact_id

    async def run(
        self, stop: asyncio.Event, *, per_second: float, calls_share: float = 0.2
    ) -> None:
        """Hand in contacts at `per_second` until `stop`, each on its own task."""
        tasks: set[asyncio.Task[None]] = set()
        n = 0
        while not stop.is_set():
            n += 1
            work = self.call(n) if random.random() < calls_share else self.email(n)
            task = asyncio.create_task(work)
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / per_second)
        if tasks:
            await asyncio.gather(*tasks)


def desk_client() -> httpx.AsyncClient:
    """An agent's own HTTP client: their event stream and a command or two at a time.

    Each agent has a pool of their own because httpcore hands out connections by scanning every
    connection of its pool for every request waiting: 200 agents sharing one pool of 400 kept the
    agents' process at a whole core once commands queued, and their accepts and wrap-ups reached
    the desktop 3 s (median) to 45 s after their offers did (measured in `make bench`, where it
    was the load, not the centre, that set the pace of the agents' work)."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    return httpx.AsyncClient(timeout=30, limits=limits)


@contextlib.asynccontextmanager
async def staffed(
    settings: Settings, credentials: dict[str, Any], ledger: Ledger
) -> AsyncIterator[tuple[ChannelSystems, list[Agent]]]:
    """The tenant's channel systems and every agent of `credentials`, each agent with a client of
    their own (`desk_client`); the clients close when the block ends."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with (
        httpx.AsyncClient(timeout=30, limits=limits) as client,
        contextlib.AsyncExitStack() as desks,
    ):
        pbx = ChannelSystems(settings, credentials, ledger, client)
        agents = [
            Agent(
                name,
                entry["password"],
                settings,
                ledger,
                pbx,
                await desks.enter_async_context(desk_client()),
            )
            for name, entry in credentials["agents"].items()
        ]
        yield pbx, agents


class Agent:
    def __init__(
        self,
        name: str,
        password: str,
        settings: Settings,
        ledger: Ledger,
        pbx: ChannelSystems,
        client: httpx.AsyncClient,
    ) -> None:
        self.name, self.password, self.ledger, self.pbx = name, password, ledger, pbx
        self.client = client
        self.base = settings.base_url("desktop")
        self.headers: dict[str, str] = {}
        self.last_id: int | None = None
        self.working: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        await self.sign_in_available()
        await self.work(stop)

    async def sign_in_available(self) -> None:
        await self._sign_in()
        await self._command("/v1/state", {"state": "available"}, "available")

    async def work(self, stop: asyncio.Event) -> None:
        """Follow the event stream, taking every offer, until `stop`."""
        while not stop.is_set():
            follow = asyncio.create_task(self._follow())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({follow, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for task in (follow, stopped):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError, ValueError):
                    await task
            if not stop.is_set():
                await asyncio.sleep(0.5)  # the desktop restarting: reconnect and resume
        if self.working:
            await asyncio.gather(*self.working)

    async def _sign_in(self) -> None:
        async def send() -> httpx.Response:
            return await self.client.post(
                self.base + "/v1/session", json={"username": self.name, "password": self.password}
            )

        answer = await _with_retries(
            self.ledger, "desktop", f"{self.name} sign-in", send, done=(200,)
        )
        if answer is None or answer.status_code != 200:
            raise RuntimeError(f"{self.name} could not sign in")
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}

    async def _command(self, path: str, body: dict[str, Any], what: str) -> int | None:
        async def send() -> httpx.Response:
            return await self.client.post(self.base + path, json=body, headers=self.headers)

        answer = await _with_retries(self.ledger, "desktop", f"{self.name} {what}", send)
        return None if answer is None else answer.status_code

    async def _follow(self) -> None:
        headers = dict(self.headers)
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        timeout = httpx.Timeout(10.0, read=30.0)
        async with self.client.stream(
            "GET", self.base + "/v1/events", headers=headers, timeout=timeout
        ) as stream:
            if stream.status_code == 401:
                await self._sign_in()
                return
            frame: dict[str, str] = {}
            async for line in stream.aiter_lines():
                if line:
                    name, _, value = line.partition(": ")
                    frame[name] = value
                    continue
                if "event" in frame:
                    self._on(frame)
                frame = {}

    def _on(self, frame: dict[str, str]) -> None:
        kind, seq = frame["event"], int(frame["id"]) if frame.get("id") else None
        if kind == "resync":
            self.last_id = None
            return
        if seq is not None:
            if kind != "hello" and self.last_id is not None and seq != self.last_id + 1:
                self.ledger.stream_problems.append(f"{self.name}: after {self.last_id} came {seq}")
            self.last_id = seq
        data = json.loads(frame.get("data") or "{}")
        if kind == "offer":
            self._start(self._accept(data["offer_id"]))
        elif (
            kind == "state" and data.get("state") != "available" and data.get("source") != "desktop"
        ):
            self._start(self._back())  # put on a break by routing (offers lapsed): come back
        elif kind == "assigned":
            self._start(self._handle(data["contact_id"]))

    def _start(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.working.add(task)
        task.add_done_callback(self.working.discard)

    async def _accept(self, offer_id: str) -> None:
        if await self._command(f"/v1/offers/{offer_id}/accept", {}, "accept") == 202:
            self.ledger.accepted.add(offer_id)

    async def _back(self) -> None:
        await asyncio.sleep(1.0)
        await self._command("/v1/state", {"state": "available"}, "available again")

    async def _handle(self, contact_id: str) -> None:
        await self.pbx.connect_and_end(contact_id)
        await asyncio.sleep(random.uniform(0.2, 1.0))
        body = {"disposition": "chaos-done", "outcome": "resolved", "notes": "handled"}
        status = await self._command(f"/v1/contacts/{contact_id}/wrapup", body, "wrap-up")
        if status == 202:
            self.ledger.wrapped.add(contact_id)
