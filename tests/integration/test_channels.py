"""Real sample contacts on every channel, through the real broker into recording."""

from __future__ import annotations

import json
import smtplib
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from switchboard.cli import samples
from tests.integration.harness import RunningCentre


def test_a_multipart_email_with_an_attachment_and_the_reply_to_it(centre: RunningCentre) -> None:
    message = EmailMessage()
    message["From"] = "Sam Lee <sam.lee@example.net>"
    message["To"] = centre.address
    message["Subject"] = "Photos of the damaged meter"
    message["Message-ID"] = "<meter-photos-1@example.net>"
    message.set_content("Photos attached.")
    message.add_alternative("<p>Photos <b>attached</b>.</p>", subtype="html")
    photo = samples.scanned_png(["meter photo"])
    message.add_attachment(photo, maintype="image", subtype="png", filename="meter.png")
    first = centre.post_email(message.as_bytes()).json()

    reply = centre.email(
        From="sam.lee@example.net",
        subject="Re: Photos of the damaged meter",
        body="Any news?",
        In_Reply_To="<meter-photos-1@example.net>",
        References="<meter-photos-1@example.net>",
    )
    second = centre.post_email(reply).json()
    assert second["conversation_id"] == first["conversation_id"]

    contact = centre.wait_contact(first["contact_id"])
    assert contact["text"] == "Photos attached."
    [attachment] = contact["attachments"]
    assert attachment["filename"] == "meter.png" and attachment["content_type"] == "image/png"
    stored = (
        centre.settings.var_dir
        / "blobs"
        / "sha256"
        / attachment["sha256"][:2]
        / attachment["sha256"]
    )
    assert stored.read_bytes() == photo
    assert centre.wait_contact(second["contact_id"])["text"] == "Any news?"


def test_mail_delivered_over_smtp(centre: RunningCentre) -> None:
    raw = centre.email(subject="By SMTP", body="Sent by a mail server.")
    with smtplib.SMTP("127.0.0.1", centre.settings.smtp_port, timeout=30) as smtp:
        smtp.ehlo("mx.example.net")
        smtp.mail("jordan@example.net")
        assert smtp.rcpt(centre.address)[0] == 250
        refused = smtp.rcpt("nobody@acme.example")
        assert refused[0] == 550
        code, reply = smtp.data(raw)
    assert code == 250, reply
    contact_id = reply.decode().rsplit(" ", 1)[-1]
    contact = centre.wait_contact(contact_id)
    assert contact["subject"] == "By SMTP" and contact["channel"] == "email"


def test_a_full_call_and_an_abandoned_one(centre: RunningCentre) -> None:
    call = f"call-{time.time_ns()}"
    offered = centre.call_event(
        {
            "event": "offered",
            "call_id": call,
            "ani": "0412 345 678",
            "dnis": centre.phone_number,
            "ivr": ["2", "1"],
            "language": "en",
        }
    )
    assert offered.status_code == 202, offered.text
    contact_id = offered.json()["contact_id"]
    centre.wait_contact(contact_id)
    assert (
        centre.call_event(
            {"event": "answered", "call_id": call, "agent_ref": "ext-201"}
        ).status_code
        == 202
    )
    again = centre.call_event(
        {"event": "answered", "call_id": call, "agent_ref": "ext-201"},
        timestamp=int(time.time()) + 1,
    )
    assert again.json() == {**offered.json(), "duplicate": True}
    centre.call_event({"event": "ended", "call_id": call, "duration_seconds": 312})
    contact = centre.wait_contact(contact_id, status="ended")
    assert contact["channel"] == "phone"
    assert contact["customer"]["phone"] == "+61412345678"
    assert [e["event_type"] for e in contact["timeline"]] == [
        "contact.received",
        "contact.queued",
        "call.answered",
        "call.ended",
    ]
    assert contact["timeline"][0]["details"]["ivr_selections"] == ["2", "1"]

    abandoned = f"call-{time.time_ns()}"
    first = centre.call_event(
        {"event": "offered", "call_id": abandoned, "ani": "anonymous", "dnis": centre.phone_number}
    )
    centre.call_event({"event": "abandoned", "call_id": abandoned})
    contact = centre.wait_contact(first.json()["contact_id"], status="abandoned")
    assert contact["customer"]["phone"] is None
    assert "caller number withheld" in contact["timeline"][0]["details"]["parse_warnings"]


def test_voicemail_and_callback_attach_to_the_call(centre: RunningCentre) -> None:
    call = f"call-{time.time_ns()}"
    offered = centre.call_event(
        {"event": "offered", "call_id": call, "ani": "+61 3 5550 1234", "dnis": centre.phone_number}
    )
    centre.call_event(
        {
            "event": "voicemail",
            "call_id": call,
            "recording_ref": "vm/881.wav",
            "duration_seconds": 42,
        }
    )
    centre.call_event(
        {"event": "callback_requested", "call_id": call, "callback_number": "(03) 5550 9999"}
    )
    timeline = centre.wait_timeline(offered.json()["contact_id"], entries=4)
    by_type = {e["event_type"]: e["details"] for e in timeline}
    assert by_type["call.voicemail_left"] == {
        "recording_ref": "vm/881.wav",
        "duration_seconds": 42.0,
    }
    assert by_type["call.callback_requested"] == {"callback_number": "+61355509999"}


def test_call_events_that_cannot_be_accepted(centre: RunningCentre) -> None:
    unknown = centre.call_event({"event": "answered", "call_id": "never-offered"})
    assert unknown.status_code == 409 and "offered" in unknown.json()["detail"]
    bad_number = centre.call_event({"event": "offered", "call_id": "c-bad", "dnis": "12"})
    assert bad_number.status_code == 422 and "phone number" in bad_number.json()["detail"]
    no_kind = centre.call_event({"event": "transferred", "call_id": "c-x"})
    assert no_kind.status_code == 422 and "invalid CTI event" in no_kind.json()["detail"]
    not_json = centre.post_signed(
        "/v1/phone/events", b"{nope", "application/json", system="acme-cti"
    )
    assert not_json.status_code == 400
    email_system = centre.post_signed(
        "/v1/phone/events",
        json.dumps(
            {"event": "abandoned", "call_id": "c", "at": datetime.now(UTC).isoformat()}
        ).encode(),
        "application/json",
        system=centre.mail_system,
    )
    assert email_system.status_code == 403


def test_a_letter_with_a_text_layer(centre: RunningCentre) -> None:
    pdf = samples.text_pdf(
        ["Dear Acme Energy,", "Please close my account at 3 Sample Road.", "Alex Smith"]
    )
    response = centre.post_document(
        "/v1/letter",
        {
            "batch_id": f"B-{time.time_ns()}",
            "item": "1",
            "sender_name": "Alex Smith",
            "postal_address": "3 Sample Road, Exampleton NSW 2000",
            "received_date": "2026-11-23",
        },
        pdf,
    )
    assert response.status_code == 202, response.text
    contact = centre.wait_contact(response.json()["contact_id"])
    assert contact["channel"] == "letter"
    assert "Please close my account" in contact["text"]
    assert contact["customer"]["name"] == "Alex Smith"
    document = contact["timeline"][0]["details"]["document"]
    assert document["kind"] == "pdf" and document["pages"] == 1 and document["ocr_pages"] == 0
    assert "manual_review" not in contact["flags"]


def test_an_image_only_tiff_letter_is_read_by_ocr(centre: RunningCentre) -> None:
    tiff = samples.scanned_tiff(
        [["Dear Acme,", "my hot water has stopped working."], ["Regards, Kim"]]
    )
    batch = f"B-{time.time_ns()}"
    response = centre.post_document("/v1/letter", {"batch_id": batch, "item": "7"}, tiff)
    assert response.status_code == 202, response.text
    contact = centre.wait_contact(response.json()["contact_id"])
    assert "hot water has stopped working" in contact["text"] and "Regards, Kim" in contact["text"]
    document = contact["timeline"][0]["details"]["document"]
    assert document["kind"] == "tiff" and document["pages"] == 2 and document["ocr_pages"] == 2
    assert document["ocr_confidence"] > 70
    time.sleep(1)  # the mailroom sends it again later, signed anew
    again = centre.post_document("/v1/letter", {"batch_id": batch, "item": "7"}, tiff)
    assert again.json()["duplicate"] is True


def test_a_fax(centre: RunningCentre) -> None:
    tiff = samples.scanned_tiff(
        [["FAX TO ACME ENERGY", "Please send a technician on Monday."]], fax=True
    )
    response = centre.post_document(
        "/v1/fax",
        {
            "fax_id": f"fx-{time.time_ns()}",
            "called_number": centre.fax_number,
            "calling_number": "02 5550 7777",
            "csid": "EXAMPLE PTY LTD",
            "pages": "1",
        },
        tiff,
    )
    assert response.status_code == 202, response.text
    contact = centre.wait_contact(response.json()["contact_id"])
    assert contact["channel"] == "fax" and contact["customer"]["phone"] == "+61255507777"
    assert "send a technician on Monday" in contact["text"]
    assert contact["timeline"][0]["details"]["document"]["csid"] == "EXAMPLE PTY LTD"


@pytest.mark.parametrize(
    ("path", "fields", "document", "status", "reason"),
    [
        (
            "/v1/letter",
            {"batch_id": "b", "item": "1"},
            b"%PDF-1.4 this is not really a PDF",
            422,
            "PDF",
        ),
        (
            "/v1/letter",
            {"batch_id": "b", "item": "1"},
            b"GIF89a\x01\x00\x01\x00",
            415,
            "not a PDF, TIFF or PNG",
        ),
        ("/v1/letter", {"batch_id": "b", "item": "1"}, None, 422, "'file'"),
        ("/v1/letter", {"item": "1"}, b"%PDF-1.4", 422, "'batch_id' is required"),
        (
            "/v1/letter",
            {"batch_id": "b", "item": "1", "received_date": "23/11/2026"},
            b"x",
            422,
            "YYYY-MM-DD",
        ),
        ("/v1/fax", {"fax_id": "f-empty", "called_number": "+61255501099"}, b"", 422, "'file'"),
        (
            "/v1/fax",
            {"fax_id": "f", "called_number": "not a number"},
            b"II*\x00",
            422,
            "phone number",
        ),
        (
            "/v1/fax",
            {"fax_id": "f", "called_number": "+61255501099"},
            b"II*\x00garbage",
            422,
            "TIFF",
        ),
    ],
)
def test_documents_that_cannot_be_contacts(
    centre: RunningCentre,
    path: str,
    fields: dict[str, str],
    document: bytes | None,
    status: int,
    reason: str,
) -> None:
    response = centre.post_document(path, fields, document)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]


def test_a_letter_from_a_system_not_allowed_letters(centre: RunningCentre) -> None:
    response = centre.post_document(
        "/v1/letter", {"batch_id": "b", "item": "1"}, b"%PDF", system=centre.mail_system
    )
    assert response.status_code == 403


def test_channel_systems_that_publish_straight_to_kafka(centre: RunningCentre) -> None:
    message_id = f"raw-{time.time_ns()}@example.net"
    centre.produce_raw(
        "intake.email.raw",
        centre.email(subject="Via Kafka", Message_ID=f"<{message_id}>"),
        key=b"raw-1",
    )
    contact = centre.wait_contact(centre.contact_for_external_id(message_id))
    assert contact["subject"] == "Via Kafka"

    letter = {
        "system": "acme-mailroom",
        "batch_id": f"RB-{time.time_ns()}",
        "item": "1",
        "document_base64": __import__("base64")
        .b64encode(samples.text_pdf(["Kafka letter body text here"]))
        .decode(),
    }
    centre.produce_raw("intake.letter.raw", json.dumps(letter).encode(), key=b"raw-2")
    contact = centre.wait_contact(centre.contact_for_external_id(f"{letter['batch_id']}:1"))
    assert "Kafka letter body" in contact["text"]

    centre.produce_raw("intake.email.raw", b"\x00\x01 not an email", key=b"raw-bad")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        letters = [r for r in centre.read_topic("intake.email.raw.dlq") if r.key == b"raw-bad"]
        if letters:
            break
        time.sleep(0.3)
    [dead] = letters
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["x-dlq-reason"] == "InvalidInput: binary data is not an RFC 5322 message"
    assert headers["x-dlq-consumer-group"] == "switchboard-intake"
