"""multipart/form-data bodies, read with the standard library's MIME parser.

The whole body is read (and signature-checked) first, so it is parsed from bytes rather than from
the request stream; a malformed body is refused with a reason, never a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from switchboard.common.errors import InvalidInput
from switchboard.intake.adapters.limits import check_form


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    def text(self) -> str:
        try:
            return self.data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InvalidInput(f"form field {self.name!r} is not UTF-8 text") from None


def parse_form(content_type: str, body: bytes, *, max_parts: int = 20) -> dict[str, Part]:
    if (
        not content_type.lower().startswith("multipart/form-data")
        or "boundary=" not in content_type
    ):
        raise InvalidInput("Content-Type must be multipart/form-data with a boundary", status=415)
    if "\r" in content_type or "\n" in content_type:
        raise InvalidInput("malformed Content-Type", status=400)
    boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    if not boundary:
        raise InvalidInput("Content-Type has an empty boundary", status=400)
    check_form(body, boundary, max_parts=max_parts)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.default).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidInput("body is not multipart/form-data", status=400)
    parts: dict[str, Part] = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts[name] = Part(name, part.get_filename(), part.get_content_type(), data)
    if not parts:
        raise InvalidInput("multipart body has no named parts", status=400)
    return parts
