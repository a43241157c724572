import hashlib
import hmac

from switchboard.common.mail import header_text
from switchboard.common.settings import SERVICE_PORT_FIELDS, Settings
from switchboard.common.signing import SIGNATURE_HEADER, signed_headers


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b"Subject: hi\r\n\r\nhello"
    headers = signed_headers("mail-1", "s3cret", body, timestamp=1700000000)
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == "sha256=" + expected


def test_one_postgresql_for_all_or_a_sqlite_file_each_with_async_drivers(monkeypatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", "postgresql://u@127.0.0.1:5432/test")
    assert Settings().database_urls == ["postgresql+asyncpg://u@127.0.0.1:5432/test"]
    assert Settings().sqlalchemy_url_for("intake") == "postgresql+asyncpg://u@127.0.0.1:5432/test"
    monkeypatch.delenv("SWITCHBOARD_DATABASE_URL")
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", "/tmp/sb")
    assert Settings().sqlalchemy_url_for("recording") == "sqlite+aiosqlite:////tmp/sb/recording.db"
    files = {url.rsplit("/", 1)[1] for url in Settings().database_urls}
    assert files == {f"{service}.db" for service in SERVICE_PORT_FIELDS}  # one file each
    assert len(Settings().databases) == len(SERVICE_PORT_FIELDS)


def test_embedded_broker_unless_kafka_is_named(monkeypatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_KAFKA", raising=False)
    assert Settings().embedded_broker and Settings().kafka_bootstrap == "127.0.0.1:9092"
    monkeypatch.setenv("SWITCHBOARD_KAFKA", "kafka-0:9092")
    assert not Settings().embedded_broker and Settings().kafka_bootstrap == "kafka-0:9092"


def test_header_text_keeps_a_header_on_one_line() -> None:
    assert header_text("repair\u2028now\r\nBcc: someone@example.org") == (
        "repair now Bcc: someone@example.org"
    )
    assert header_text("x" * 400) == "x" * 300
