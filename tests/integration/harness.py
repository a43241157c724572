"""The whole-system harness: a real broker (the embedded Tansu binary, or the Kafka that
SWITCHBOARD_KAFKA names), a real database (SQLite, and PostgreSQL on 127.0.0.1:5432) and every
service as its own process, started by the same code as `switchboard up`, on free ports; and what
a test does with it, as a channel system, an agent or an operator would."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer

from switchboard.cli.centre import Centre
from switchboard.cli.demo import form
from switchboard.cli.seed import DEMO_OPERATORS, add_tenants
from switchboard.common.broker import read_topic, read_topics
from switchboard.common.centre import CentreConfig
from switchboard.common.signing import signed_headers
from tests.integration import loopback
from tests.integration.platform import ChannelPlatform
from tests.integration.tenants import SERIALS, tenant_config

T = TypeVar("T")
MAX_EMAIL_BYTES = 256 * 1024


def clock_file(var_dir: Path, service: str) -> Path:
    """Where the offset, in seconds, of a service's movable clock is kept."""
    return var_dir / f"{service}-clock"


class RunningCentre:
    """A running centre as one tenant of it sees it, and what a test does with it, as a channel
    system or an operator would: the demo tenant, or one `new_tenant` added while it runs."""

    def __init__(
        self,
        centre: Centre,
        backend: str,
        creds: dict[str, Any] | None = None,
        *,
        agent_suffix: str = "",
    ) -> None:
        self.centre = centre
        self.backend = backend
        self.settings = centre.settings
        creds = creds or centre.credentials
        self.credentials = creds
        self.agent_suffix = agent_suffix
        self.operator = {"Authorization": f"Bearer {creds['operator_token']}"}
        self.operators: dict[str, dict[str, Any]] = creds["operators"]
        """The demo people, one per role: username -> password, tenant, roles."""
        self.tenant = creds["operator_tenant"]
        self.address = creds["tenants"][self.tenant]["email"]
        self.mail_system = next(k for k in creds["channel_systems"] if k.endswith("mail"))
        self.mail_secret = creds["channel_systems"][self.mail_system]["secret"]
        self.phone_number = creds["tenants"][self.tenant]["phone"]
        self.fax_number = creds["tenants"][self.tenant]["fax"]
        self.sms_number = creds["tenants"][self.tenant]["sms"]
        self.systems = {k: v["secret"] for k, v in creds["channel_systems"].items()}
        self.workforce_clock = self.clock("workforce")
        self.closers: list[Callable[[], None]] = []
        """What to close with the centre (a tenant's view shares its centre's)."""
        self.platform: ChannelPlatform | None = None
        """The telephony platform and SMS gateway the centre talks to, where a test has one."""

    def new_tenant(
        self,
        tenant_id: str,
        *,
        edit: Callable[[dict[str, Any]], None] | None = None,
        workforce_demo: bool = False,
    ) -> RunningCentre:
        """A tenant of the demo's shape added to this running centre (`switchboard tenant add`),
        `edit`ed first, with one person per role (the demo's usernames): the centre as it sees it.
        With `workforce_demo`, workforce seeds its weeks of history, a forecast and this week's
        roster, published to every agent's desktop, as for the demo tenant; only a test that
        reads them asks for that (it costs workforce seconds of work a tenant, and every later
        round measures that tenant's day and each rostered agent's adherence)."""
        config = tenant_config(tenant_id, next(SERIALS))
        if not workforce_demo:
            for tenant in config["tenants"]:
                tenant.get("workforce", {}).pop("demo_history_weeks", None)
        if edit is not None:
            edit(config)
        people = {username: [role] for username, role in DEMO_OPERATORS.items()}
        added = asyncio.run(
            add_tenants(self.settings, CentreConfig.model_validate(config), people=people)
        )
        creds = {**added, "operator_tenant": tenant_id, "operators": added["people"]}
        creds["operator_token"] = "unset"
        view = RunningCentre(self.centre, self.backend, creds, agent_suffix=f"-{tenant_id}")
        view.operator = view.sign_in("admin")
        view.closers = self.closers
        if any(t.get("workforce", {}).get("demo_history_weeks") for t in config["tenants"]):
            # Workforce takes up a new tenant on its next round; a refresh starts one now.
            loopback.post(view.url("workforce", "/v1/refresh"), headers=view.operator, timeout=30)
            view.wait_for_the_published_roster()
        return view

    def wait_for_the_published_roster(self) -> None:
        """Until the roster workforce seeds for a new demo tenant (on its next round) has reached
        every agent's desktop: its `schedule` events would otherwise land in the middle of a
        test reading an agent's stream."""

        def rostered() -> dict[str, set[str]] | None:
            days = {}
            for agent in self.credentials["agents"]:
                answer = loopback.get(
                    self.url("workforce", f"/v1/agents/{agent}/schedule"),
                    headers=self.operator,
                    timeout=10,
                )
                if answer.status_code == 404:
                    continue  # not one of workforce's agents (a quality analyst)
                answer.raise_for_status()
                days[agent] = {shift["day"] for shift in answer.json()["shifts"]}
            return days if any(days.values()) else None

        since = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
        for agent, days in until(f"{self.tenant}'s roster published", rostered, 90).items():
            desk = {"Authorization": f"Bearer {self.agent_token(agent)}"}

            def on_the_desktop(desk: dict[str, str] = desk, days: set[str] = days) -> bool:
                answer = loopback.get(self.url("desktop", "/v1/schedule"), headers=desk, timeout=10)
                shown = {day["day"] for day in answer.json()["days"]}
                return {day for day in days if day >= since} <= shown

            until(f"{agent}'s schedule on their desktop", on_the_desktop)

    def agent_token(self, agent_id: str) -> str:
        password = self.credentials["agents"][agent_id]["password"]
        answer = loopback.post(
            self.url("desktop", "/v1/session"),
            timeout=10,
            json={"username": agent_id, "password": password},
        )
        return str(answer.json()["token"])

    def new_floor(self, tenant_id: str, *, workforce_demo: bool = False) -> RunningCentre:
        """A tenant of its own whose agents may go available without meeting other tests'
        contacts, its telephony platform and SMS gateway a loopback server the test scripts
        (`.platform`, closed with the centre); `workforce_demo` as for `new_tenant`."""
        platform = ChannelPlatform()
        self.closers.append(platform.close)
        view = self.new_tenant(tenant_id, edit=platform.wire, workforce_demo=workforce_demo)
        platform.secrets = dict(view.systems)
        view.platform = platform
        return view

    def clock(self, service: str) -> Path:
        """The file of `service`'s movable clock (see `running_centre`'s `clocks`)."""
        return clock_file(self.settings.var_dir, service)

    def agent_id(self, name: str) -> str:
        """The id of the demo agent `name` (alice, bilal ...) in this tenant."""
        return name + self.agent_suffix

    def system(self, kind: str) -> str:
        """This tenant's channel system of a kind: mail, cti, sms, mailroom."""
        return f"{self.tenant}-{kind}"

    # -- channel-system side -------------------------------------------------------------------
    def email(self, *, subject: str = "Hello", body: str = "Please help.", **headers: str) -> bytes:
        message = EmailMessage()
        message["From"] = headers.pop("From", "Jordan Citizen <jordan@example.net>")
        message["To"] = headers.pop("To", self.address)
        message["Subject"] = subject
        message["Message-ID"] = headers.pop("Message_ID", make_msgid(domain="example.net"))
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        message.set_content(body)
        return message.as_bytes()

    def signed(self, raw: bytes, **overrides: Any) -> dict[str, str]:
        headers = {"Content-Type": "message/rfc822"}
        headers.update(signed_headers(self.mail_system, self.mail_secret, raw, **overrides))
        return headers

    def post_email(self, raw: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return loopback.post(
            self.url("intake", "/v1/email"),
            content=raw,
            headers=headers if headers is not None else self.signed(raw),
            timeout=30,
        )

    def post_signed(
        self, path: str, body: bytes, content_type: str, *, system: str, **overrides: Any
    ) -> httpx.Response:
        headers = {
            "Content-Type": content_type,
            **signed_headers(system, self.systems[system], body, **overrides),
        }
        return loopback.post(self.url("intake", path), content=body, headers=headers, timeout=120)

    def call_event(self, event: dict[str, Any], **overrides: Any) -> httpx.Response:
        body = json.dumps({"at": datetime.now(UTC).isoformat(), **event}).encode()
        return self.post_signed(
            "/v1/phone/events", body, "application/json", system=self.system("cti"), **overrides
        )

    def post_document(
        self,
        path: str,
        fields: dict[str, str],
        document: bytes | None,
        *,
        system: str | None = None,
    ) -> httpx.Response:
        body, content_type = form(fields, document)
        return self.post_signed(path, body, content_type, system=system or self.system("mailroom"))

    # -- operator side ---------------------------------------------------------------------------
    def add_operator(self, username: str, *roles: str, tenant: str | None = None) -> str:
        """A person added with `switchboard operator add` (as an administrator would); their
        password."""
        password = f"pw-{username}-{secrets.token_hex(4)}"
        role_options = [option for role in roles for option in ("--role", role)]
        added = self.switchboard(
            "operator",
            "add",
            username,
            "--tenant",
            tenant or self.tenant,
            *role_options,
            "--password",
            password,
        )
        assert added.returncode == 0, added.stderr
        return password

    def sign_in(
        self, username: str, *, password: str | None = None, tenant: str | None = None
    ) -> dict[str, str]:
        """The headers of `username` signed in at the desktop (a demo person's password unless
        given)."""
        person = self.operators.get(username, {})
        body = {
            "tenant": tenant or person.get("tenant") or self.tenant,
            "username": username,
            "password": password or person["password"],
        }
        answer = loopback.post(self.url("desktop", "/v1/operators/session"), json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def url(self, service: str, path: str) -> str:
        return self.settings.base_url(service) + path

    def contact(self, contact_id: str) -> httpx.Response:
        return loopback.get(
            self.url("recording", f"/v1/contacts/{contact_id}"), headers=self.operator, timeout=10
        )

    def wait_contact(
        self, contact_id: str, *, status: str = "queued", timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: httpx.Response | None = None
        while time.monotonic() < deadline:
            last = self.contact(contact_id)
            if last.status_code == 200:
                contact = last.json()
                received = any(e["event_type"] == "contact.received" for e in contact["timeline"])
                if contact["status"] == status and received:  # events may arrive in any order
                    return dict(contact)
            time.sleep(0.1)
        raise AssertionError(
            f"contact {contact_id} not {status} in {timeout}s: {last and last.text}"
        )

    def wait_timeline(
        self, contact_id: str, *, entries: int, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """The contact's timeline once it has at least `entries` entries."""
        deadline = time.monotonic() + timeout
        timeline: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            response = self.contact(contact_id)
            timeline = response.json()["timeline"] if response.status_code == 200 else []
            if len(timeline) >= entries:
                return timeline
            time.sleep(0.1)
        raise AssertionError(
            f"{contact_id}: {len(timeline)} timeline entries after {timeout}s, wanted {entries}"
        )

    # -- the broker, directly ------------------------------------------------------------------
    def produce_raw(self, topic: str, value: bytes, key: bytes = b"poison") -> None:
        async def send() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(topic, value, key=key)
            finally:
                await producer.stop()

        asyncio.run(send())

    def read_topic(self, topic: str) -> list[Any]:
        """Every record on `topic` right now (no consumer group, nothing committed)."""
        return asyncio.run(read_topic(self.settings.kafka_bootstrap, topic))

    def read_topics(self, topics: list[str]) -> dict[str, list[Any]]:
        """Every record on each of `topics` right now, read by one consumer."""
        return asyncio.run(read_topics(self.settings.kafka_bootstrap, topics))

    def switchboard(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the `switchboard` command against this centre, as an operator would."""
        return run_switchboard(self.centre.child_env(), *args, timeout=timeout)

    def events(self, topic: str) -> list[dict[str, Any]]:
        """The envelopes on `topic`, skipping values that are not (poison other tests wrote)."""
        found = []
        for record in self.read_topic(topic):
            try:
                event = json.loads(record.value)
            except ValueError:
                continue
            if isinstance(event, dict) and "event_id" in event and "payload" in event:
                found.append(event)
        return found

    def contact_for_external_id(self, external_id: str, timeout: float = 30) -> str:
        """The contact intake made for a channel's own id (Message-ID, batch:item ...)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events("contact.received"):
                if event["payload"].get("external_id") == external_id:
                    return str(event["contact_id"])
            time.sleep(0.3)
        raise AssertionError(f"no contact.received for {external_id}")

    def log_lines(self, service: str) -> list[str]:
        return (self.settings.log_dir / f"{service}.log").read_text(encoding="utf-8").splitlines()


def until(what: str, probe: Callable[[], T | None], timeout: float = 45) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None and found is not False:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


def run_switchboard(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_lines(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]
