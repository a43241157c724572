"""A consumer's group membership and a topic's partitions: the embedded broker's settings on the
embedded broker (however it is reached), Kafka's defaults elsewhere."""

from __future__ import annotations

from pathlib import Path

from switchboard.common.broker import (
    EMBEDDED_SESSION_TIMEOUT_MS,
    Membership,
    membership_for,
    partitions_for,
)
from switchboard.common.settings import Settings


def test_the_embedded_broker_gets_the_least_session_kafka_allows(tmp_path: Path) -> None:
    membership = membership_for(Settings(var_dir=tmp_path))
    assert membership.session_timeout_ms == EMBEDDED_SESSION_TIMEOUT_MS == 6_000
    assert membership.heartbeat_interval_ms * 3 <= membership.session_timeout_ms


def test_a_real_kafka_keeps_the_clients_defaults(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, kafka="kafka.internal:9092")
    assert membership_for(settings) == Membership(10_000, 3_000)


def test_the_embedded_broker_started_apart_is_still_the_embedded_broker(tmp_path: Path) -> None:
    """The chaos suite reaches its embedded broker through a fault proxy: the centre it tests
    runs with the settings `switchboard up` gives it (one partition a topic, the short session)."""
    settings = Settings(var_dir=tmp_path, kafka="127.0.0.1:19092", kafka_is_embedded=True)
    assert not settings.embedded_broker  # the centre does not start it
    assert membership_for(settings) == membership_for(Settings(var_dir=tmp_path))
    assert partitions_for(settings) == partitions_for(Settings(var_dir=tmp_path)) == 1
    assert partitions_for(Settings(var_dir=tmp_path, kafka="kafka.internal:9092")) is None
