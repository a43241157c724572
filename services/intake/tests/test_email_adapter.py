from email.message import EmailMessage

import pytest

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.email import parse_email


def _message(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Jordan Citizen <Jordan@Example.NET>")
    message["To"] = headers.pop("To", "help@acme.example")
    message["Subject"] = headers.pop("Subject", "Bill query")
    message["Message-ID"] = headers.pop("Message_ID", "<m-1@example.net>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("My bill looks wrong.")
    return message


def test_plain_message_fields() -> None:
    parsed = parse_email(_message().as_bytes())
    assert parsed.sender_address == "jordan@example.net"
    assert parsed.sender_name == "Jordan Citizen"
    assert parsed.recipients == ["help@acme.example"]
    assert parsed.message_id == "m-1@example.net"
    assert parsed.subject == "Bill query"
    assert parsed.text == "My bill looks wrong."
    assert parsed.flags == [] and parsed.warnings == []


def test_multipart_with_html_alternative_and_attachment() -> None:
    message = _message()
    message.add_alternative("<p>My <b>bill</b> looks wrong.</p>", subtype="html")
    message.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="bill.pdf"
    )
    parsed = parse_email(message.as_bytes())
    assert parsed.text == "My bill looks wrong."
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "bill.pdf",
        "application/pdf",
        b"%PDF-1.4 fake",
    )
    assert len(attachment.sha256) == 64


def test_html_only_body_becomes_readable_text() -> None:
    message = _message()
    message.set_content(
        "<html><head><style>p{}</style></head><body><p>Hello&nbsp;there</p>"
        "<ul><li>one</li><li>two</li></ul><script>x()</script></body></html>",
        subtype="html",
    )
    text = parse_email(message.as_bytes()).text
    assert "Hello\xa0there" in text and "- one" in text and "- two" in text
    assert "x()" not in text and "p{}" not in text


def test_encoded_words_and_charsets_are_decoded() -> None:
    raw = (
        b"From: =?utf-8?q?Zo=C3=AB_M=C3=BCller?= <zoe@example.net>\r\n"
        b"To: help@acme.example\r\n"
        b"Subject: =?iso-8859-1?q?R=E9clamation?=\r\n"
        b"Message-ID: <enc@example.net>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Caf=E9 ferm=E9\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.sender_name == "Zoë Müller"
    assert parsed.subject == "Réclamation"
    assert parsed.text == "Café fermé"


def test_unknown_charset_is_salvaged_with_a_warning() -> None:
    raw = (
        b"From: a@example.net\r\nTo: help@acme.example\r\nMessage-ID: <cs@example.net>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello \xc3\xa9\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.text.startswith("hello")
    assert any("charset" in w for w in parsed.warnings)


def test_missing_message_id_is_replaced_by_a_content_hash() -> None:
    message = _message()
    del message["Message-ID"]
    parsed = parse_email(message.as_bytes())
    assert parsed.message_id.startswith("sha256:")
    assert parse_email(message.as_bytes()).message_id == parsed.message_id
    assert any("Message-ID" in w for w in parsed.warnings)


def test_threading_headers() -> None:
    message = _message(In_Reply_To="<a@x>", References="<root@x> <a@x>")
    parsed = parse_email(message.as_bytes())
    assert parsed.in_reply_to == "a@x"
    assert parsed.references == ["root@x", "a@x"]


@pytest.mark.parametrize(
    ("headers", "flag"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
        ({"X_Autoreply": "yes"}, "auto_reply"),
        ({"Precedence": "bulk"}, "bulk"),
        ({"Precedence": "list"}, "bulk"),
        ({"Return_Path": "<>"}, "null_return_path"),
    ],
)
def test_machine_written_mail_is_flagged(headers: dict[str, str], flag: str) -> None:
    assert flag in parse_email(_message(**headers).as_bytes()).flags


def test_auto_submitted_no_is_a_person() -> None:
    assert parse_email(_message(Auto_Submitted="no").as_bytes()).flags == []


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (b"", 400, "empty"),
        (b"   \r\n", 400, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 422, "binary"),
        (b"just some words, no headers at all", 422, "header"),
        (b"To: help@acme.example\r\n\r\nno sender", 422, "sender"),
        (b"From: not an address\r\nTo: help@acme.example\r\n\r\nx", 422, "sender"),
        (b"From: a@example.net\r\nSubject: x\r\n\r\nno recipient", 422, "recipient"),
    ],
)
def test_what_cannot_be_a_contact_is_refused_with_a_reason(
    raw: bytes, status: int, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_email(raw)
    assert caught.value.status == status
    assert reason in caught.value.reason


def test_long_text_is_truncated_with_a_warning() -> None:
    message = _message()
    message.set_content("x" * 5000)
    parsed = parse_email(message.as_bytes(), max_text_chars=1000)
    assert len(parsed.text) == 1000
    assert any("truncated" in w for w in parsed.warnings)


def test_undeclared_8bit_headers_are_read_as_utf8() -> None:
    raw = (
        "From: Zoë <zo\u00eb@example.net>\r\nTo: help@acme.example\r\nSubject: Café\r\n"
        "Message-ID: <8bit@example.net>\r\n\r\nbody\r\n"
    ).encode()
    parsed = parse_email(raw)
    assert parsed.sender_name == "Zoë" and parsed.subject == "Café"
    assert "undeclared 8-bit bytes read as UTF-8" in parsed.warnings
    raw_latin1 = b"From: x@example.net\r\nTo: help@acme.example\r\nSubject: caf\xe9\r\n\r\nb"
    assert parse_email(raw_latin1).subject == "caf\ufffd"
