import json

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from switchboard.common.delivery import classify, in_produced_order, reason
from switchboard.common.errors import InvalidInput, TransientError
from switchboard.common.ids import new_id


class _Model(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Model.model_validate({"n": "x"})
    except ValidationError as error:
        return error
    raise AssertionError


def test_infrastructure_failures_are_transient() -> None:
    assert (
        classify(OperationalError("SELECT 1", {}, Exception("database is locked"))) == "transient"
    )
    assert classify(KafkaConnectionError()) == "transient"
    assert classify(TransientError("later")) == "transient"
    assert classify(ConnectionRefusedError(111, "refused")) == "transient"
    assert classify(TimeoutError()) == "transient"


def test_bad_messages_are_permanent() -> None:
    assert classify(_validation_error()) == "permanent"
    assert classify(json.JSONDecodeError("x", "doc", 0)) == "permanent"
    assert classify(InvalidInput("nope")) == "permanent"


def test_a_schema_mistake_is_not_waited_out() -> None:
    missing = OperationalError("SELECT", {}, Exception("no such table: dnc_washed_number"))
    assert classify(missing) == "unknown"


def test_other_failures_are_retried_then_dead_lettered() -> None:
    assert classify(RuntimeError("bug")) == "unknown"
    assert classify(IntegrityError("INSERT", {}, Exception("duplicate key"))) == "unknown"


def test_reason_names_the_invalid_fields() -> None:
    assert reason(_validation_error()).startswith("invalid event: n: ")
    assert reason(RuntimeError("boom")) == "RuntimeError: boom"


def _record(
    topic: str, offset: int, produced_ms: int, event_id: str | None = None
) -> ConsumerRecord[bytes, bytes]:
    headers = (("event-id", event_id.encode()),) if event_id else ()
    return ConsumerRecord(
        topic, 0, offset, produced_ms, 0, b"contact-1", b"{}", None, 9, 2, headers
    )


def test_a_batch_is_met_in_the_order_its_records_were_produced_each_partitions_order_kept() -> None:
    queued = _record("contact.queued", 7, 1_000)
    assigned = _record("contact.assigned", 3, 1_400)
    late_clock = _record("contact.assigned", 4, 1_200)  # its producer's clock was behind
    wrapped = _record("contact.wrapped", 9, 1_300)
    fetched = [wrapped, assigned, late_clock, queued]  # one partition after another
    assert in_produced_order(fetched) == [queued, wrapped, assigned, late_clock]
    one_partition = [assigned, late_clock]
    assert in_produced_order(one_partition) == one_partition


def test_events_sent_together_are_met_in_the_order_they_happened() -> None:
    """The relay sends a transfer and the wrap-up written just after it in one round: the same
    Kafka timestamp. Their event ids (UUIDv7, monotonic within the producing process) say which
    came first, whichever partition the fetch returned first."""
    transfer, wrap_up = new_id(), new_id()
    transferred = _record("contact.transfer_requested", 5, 2_000, transfer)
    wrapped = _record("contact.wrapped", 8, 2_000, wrap_up)
    assert in_produced_order([wrapped, transferred]) == [transferred, wrapped]
    hand_written = _record("contact.queued", 2, 1, "not-a-uuid")  # goes by its timestamp
    assert in_produced_order([wrapped, transferred, hand_written])[0] is hand_written
