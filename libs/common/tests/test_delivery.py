import json

from aiokafka.errors import KafkaConnectionError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from switchboard.common.delivery import classify, reason
from switchboard.common.errors import InvalidInput, TransientError


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
