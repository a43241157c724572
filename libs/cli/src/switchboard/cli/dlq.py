"""`switchboard dlq list|replay TOPIC`: the dead letters of a topic, and putting them back;
`switchboard dlq set-aside|put-back`: the same for the rows our own loops gave up on (the outbox,
deliveries, timers; switchboard.common.setaside).

Replaying is safe because every consumer is idempotent: a consumer group that had applied the
message skips it, the one that dead-lettered it tries again. A message several groups dead-lettered
is replayed once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaProducer

from switchboard.cli.services import import_all_tables
from switchboard.common import setaside
from switchboard.common.broker import read_topics
from switchboard.common.db import Database
from switchboard.common.envelope import peek
from switchboard.common.settings import Settings
from switchboard.common.topics import DLQ_SUFFIX

app = typer.Typer(
    help="Dead letters: list them with their reasons; replay them once the cause is fixed."
)


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source(self) -> tuple[str, str]:
        return self.headers.get("x-dlq-source-partition", "?"), self.headers.get(
            "x-dlq-source-offset", "?"
        )

    def summary(self) -> dict[str, Any]:
        fields = peek(self.value)
        return {
            "id": self.id,
            "key": (self.key or b"").decode("utf-8", "replace"),
            "event_id": fields.get("event_id"),
            "event_type": fields.get("event_type"),
            "consumer_group": self.headers.get("x-dlq-consumer-group"),
            "reason": self.headers.get("x-dlq-reason"),
            "attempts": self.headers.get("x-dlq-attempts"),
            "failed_at": self.headers.get("x-dlq-failed-at"),
            "source": f"{self.headers.get('x-dlq-source-topic')}[{':'.join(self.source)}]",
        }


def _dlq_name(topic: str) -> str:
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


async def read_dead_letters(bootstrap: str, *topics: str) -> dict[str, list[DeadLetter]]:
    """Each dead-letter topic's letters, read by one consumer (a consumer a topic took the chaos
    suite's account 40 s over the registry's 58)."""
    return {
        topic: [
            DeadLetter(
                r.partition,
                r.offset,
                r.key,
                r.value or b"",
                {k: v.decode("utf-8", "replace") for k, v in r.headers},
            )
            for r in records
        ]
        for topic, records in (await read_topics(bootstrap, list(topics))).items()
    }


async def replay(bootstrap: str, letters: list[DeadLetter]) -> int:
    """Publish each original message (once) back to its source topic; returns how many."""
    originals = {
        (letter.headers.get("x-dlq-source-topic"), letter.source): letter for letter in letters
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for (topic, _), letter in originals.items():
            assert topic, f"dead letter {letter.id} names no source topic"
            headers = [
                (k, v.encode()) for k, v in letter.headers.items() if not k.startswith("x-dlq-")
            ]
            headers.append(("x-replayed-from", f"{topic}{DLQ_SUFFIX}:{letter.id}".encode()))
            await producer.send_and_wait(topic, letter.value, key=letter.key, headers=headers)
    finally:
        await producer.stop()
    return len(originals)


@app.command("list")
def list_dead_letters(
    topic: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The dead letters of TOPIC (or TOPIC.dlq), with why each was dead-lettered."""
    dlq = _dlq_name(topic)
    letters = asyncio.run(read_dead_letters(Settings().kafka_bootstrap, dlq))[dlq]
    _show(
        [letter.summary() for letter in letters],
        as_json=as_json,
        line=lambda d: (
            f"{d['id']:>8}  {d['consumer_group'] or '-':<24} {d['failed_at'] or '-':<32} "
            f"{d['event_type'] or '-':<20} {d['reason']}"
        ),
        total=f"{len(letters)} dead letter(s) on {dlq}",
    )


def _show(
    summaries: list[dict[str, Any]],
    *,
    as_json: bool,
    line: Callable[[dict[str, Any]], str],
    total: str,
) -> None:
    """One line each (or one JSON object each), then the total on stderr."""
    for summary in summaries:
        typer.echo(json.dumps(summary) if as_json else line(summary))
    if not as_json:
        typer.echo(total, err=True)


@app.command("replay")
def replay_dead_letters(
    topic: str,
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="PARTITION:OFFSET of a dead letter; all if none."),
    ] = None,
) -> None:
    """Put TOPIC's dead letters (or the chosen ones) back on TOPIC."""
    settings = Settings()
    dlq = _dlq_name(topic)
    letters = asyncio.run(read_dead_letters(settings.kafka_bootstrap, dlq))[dlq]
    if ids:
        unknown = set(ids) - {letter.id for letter in letters}
        if unknown:
            typer.echo(
                f"no dead letter {', '.join(sorted(unknown))} on {_dlq_name(topic)}", err=True
            )
            raise typer.Exit(2)
        letters = [letter for letter in letters if letter.id in ids]
    count = asyncio.run(replay(settings.kafka_bootstrap, letters))
    typer.echo(
        f"replayed {count} message(s) from {len(letters)} dead letter(s) to their source topics"
    )


@app.command("set-aside")
def list_set_aside(
    service: Annotated[str | None, typer.Option(help="Only this service's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The rows the services' own loops (outbox relay, deliveries, timers) set aside, with why."""
    entries = asyncio.run(_set_aside_entries(Settings(), service))
    summaries = [
        {
            "id": entry.id,
            "service": entry.service,
            "loop": entry.loop,
            "ref": entry.ref,
            "reason": entry.reason,
            "attempts": entry.attempts,
            "set_aside_at": entry.set_aside_at.isoformat(),
        }
        for entry in entries
    ]
    _show(
        summaries,
        as_json=as_json,
        line=lambda d: (
            f"{d['id']:>6}  {d['service']:<11} {d['loop']:<20} {d['ref']:<38} "
            f"{d['set_aside_at']:<33} {d['reason']}"
        ),
        total=f"{len(entries)} row(s) set aside",
    )


@app.command("put-back")
def put_back(
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="The id of a set-aside row; all if none.")
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="Only this service's rows (the service the ids are of).")
    ] = None,
) -> None:
    """Return set-aside rows to their loops once the cause is fixed (they are tried again)."""
    settings = Settings()
    if ids and service is None and len(settings.database_urls) > 1:
        typer.echo(
            "each service's SQLite file numbers its own rows: say whose they are (--service, "
            "as `dlq set-aside` lists them)",
            err=True,
        )
        raise typer.Exit(2)
    count = asyncio.run(_put_back(settings, ids, service))
    typer.echo(f"put back {count} row(s)")


async def _set_aside_entries(settings: Settings, service: str | None) -> list[setaside.SetAside]:
    entries: list[setaside.SetAside] = []
    for url in settings.database_urls:
        db = Database(url)
        try:
            async with db.reader() as session:
                entries.extend(await setaside.listed(session, service=service))
        finally:
            await db.dispose()
    return entries


async def _put_back(settings: Settings, ids: list[int] | None, service: str | None) -> int:
    import_all_tables()  # a moved row goes back into its service's table
    urls = [settings.sqlalchemy_url_for(service)] if service else settings.database_urls
    count = 0
    for url in urls:
        db = Database(url)
        try:
            async with db.session() as session:
                count += await setaside.put_back(session, ids, service=service)
        finally:
            await db.dispose()
    return count
