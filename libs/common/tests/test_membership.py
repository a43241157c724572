"""A consumer's group membership: quick to join on the embedded broker, Kafka's defaults elsewhere."""

from __future__ import annotations

from pathlib import Path

from switchboard.common.broker import EMBEDDED_SESSION_TIMEOUT_MS, Membership, membership_for
from switchboard.common.settings import Settings


def test_the_embedded_broker_gets_the_least_session_kafka_allows(tmp_path: Path) -> None:
    membership = membership_for(Settings(var_dir=tmp_path))
    assert membership.session_timeout_ms == EMBEDDED_SESSION_TIMEOUT_MS == 6_000
    assert membership.heartbeat_interval_ms * 3 <= membership.session_timeout_ms


def test_a_real_kafka_keeps_the_clients_defaults(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, kafka="kafka.internal:9092")
    assert membership_for(settings) == Membership(10_000, 3_000)
