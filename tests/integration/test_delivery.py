"""Delivery semantics on the real broker: dead letters, and exactly-once effects across a crash."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx

from tests.integration.harness import RunningCentre


def test_a_corrupt_message_is_dead_lettered_with_its_reason_and_the_next_is_recorded(
    centre: RunningCentre,
) -> None:
    centre.produce_raw("contact.received", b"{not json at all", key=b"corrupt-1")
    centre.produce_raw("contact.received", b'{"event_type": "contact.received"}', key=b"corrupt-2")
    accepted = centre.post_email(centre.email(subject="After the poison")).json()
    centre.wait_contact(accepted["contact_id"])

    expected = {
        (group, key)
        for group in ("switchboard-routing", "switchboard-recording", "switchboard-desktop")
        for key in (b"corrupt-1", b"corrupt-2")
    }
    # Each of the three consumer groups dead-letters each message; at least once, so a group whose
    # batch was redelivered may have written one twice: wait for every pair, not for six records.
    deadline = time.monotonic() + 30
    by_group: dict[tuple[str, bytes], dict[str, str]] = {}
    letters: list = []
    while time.monotonic() < deadline:
        letters = [
            r
            for r in centre.read_topic("contact.received.dlq")
            if r.key in (b"corrupt-1", b"corrupt-2")
        ]
        by_group = {}
        for record in letters:
            headers = {k: v.decode() for k, v in record.headers}
            by_group[(headers["x-dlq-consumer-group"], record.key)] = headers
        if set(by_group) >= expected:
            break
        time.sleep(0.2)
    assert set(by_group) == expected
    for headers in by_group.values():
        assert headers["x-dlq-source-topic"] == "contact.received"
        assert headers["x-dlq-attempts"] == "1"  # a value that cannot validate is not retried
        assert headers["x-dlq-reason"].startswith("invalid event")
    missing = by_group[("switchboard-recording", b"corrupt-2")]["x-dlq-reason"]
    assert "tenant_id: Field required" in missing and "payload: Field required" in missing
    originals = {r.key: r.value for r in letters}
    assert originals[b"corrupt-1"] == b"{not json at all"


async def _send_many(centre: RunningCentre, count: int) -> list[str]:
    limit = asyncio.Semaphore(20)

    async def send(client: httpx.AsyncClient, n: int) -> str:
        raw = centre.email(subject=f"Bulk {n}", body=f"Contact number {n}")
        async with limit:
            response = await client.post(
                centre.url("intake", "/v1/email"), content=raw, headers=centre.signed(raw)
            )
        assert response.status_code == 202, response.text
        return str(response.json()["contact_id"])

    async with httpx.AsyncClient(timeout=60) as client:
        return list(await asyncio.gather(*(send(client, n) for n in range(count))))


def test_recording_killed_mid_stream_records_all_200_exactly_once(centre: RunningCentre) -> None:
    contact_ids = asyncio.run(_send_many(centre, 200))
    assert len(set(contact_ids)) == 200
    recording = centre.centre.supervisor.processes["recording"]  # type: ignore[union-attr]
    old_pid = recording.pid
    recording.signal(signal.SIGKILL)
    recording.wait(10)
    centre.centre.wait_healthy(timeout=90)  # the supervisor restarts it
    assert recording.pid != old_pid and recording.restarts >= 1

    for contact_id in contact_ids:
        contact = centre.wait_contact(contact_id, timeout=60)
        types = [entry["event_type"] for entry in contact["timeline"]]
        assert sorted(types) == ["contact.queued", "contact.received"], (contact_id, types)
    restarts = [line for line in centre.log_lines("recording") if "service restarted" in line]
    assert restarts, "the restart is logged"
