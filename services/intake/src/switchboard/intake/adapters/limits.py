"""Limits checked on the raw bytes before any parser sees them, so no input costs more than its
limits allow: header sizes, recipients, MIME containers and parts, form parts, JSON depth. Each
refusal is an `InvalidInput` (413 when something is over a size or count, 400 when malformed)
saying which limit and by how much. All of them are byte scans: linear, and fast."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchboard.common.errors import InvalidInput

ADDRESS_HEADERS = (b"to", b"cc", b"bcc", b"delivered-to", b"x-original-to", b"envelope-to")
_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.I)


@dataclass(frozen=True)
class EmailLimits:
    header_bytes: int = 256 * 1024
    """The whole header block."""
    header_field_bytes: int = 32 * 1024
    """One header field, unfolded."""
    recipients: int = 500
    """Addresses over To, Cc and the delivery headers."""
    multiparts: int = 50
    """multipart containers (which bounds how deep parts nest)."""
    parts: int = 500
    """MIME parts in all."""


def header_block(raw: bytes) -> bytes:
    """The message's header block: everything before the first empty line."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(ends)] if ends else raw


def check_email(raw: bytes, limits: EmailLimits) -> None:
    head = header_block(raw)
    recipients = 0
    for name, size, value in _fields(head):
        if size > limits.header_field_bytes:
            shown = name.decode("ascii", "replace")[:60]
            raise InvalidInput(
                f"header {shown!r} of {size:,} bytes is over the "
                f"{limits.header_field_bytes:,}-byte limit of one header",
                status=413,
            )
        if name.lower() in ADDRESS_HEADERS:
            recipients += value.count(b"@")
    if len(head) > limits.header_bytes:
        raise InvalidInput(
            f"header block of {len(head):,} bytes is over the {limits.header_bytes:,}-byte limit",
            status=413,
        )
    if recipients > limits.recipients:
        raise InvalidInput(
            f"{recipients:,} recipient addresses is over the limit of {limits.recipients:,}",
            status=413,
        )
    boundaries = {a or b for a, b in _BOUNDARY.findall(raw)}
    if len(boundaries) > limits.multiparts:
        raise InvalidInput(
            f"{len(boundaries):,} multipart containers is over the limit of {limits.multiparts}",
            status=413,
        )
    parts = sum(raw.count(b"\n--" + boundary) for boundary in boundaries)
    if parts > limits.parts + len(boundaries):  # each container's closing line counts once
        raise InvalidInput(f"over {limits.parts:,} MIME parts", status=413)


def _fields(head: bytes) -> list[tuple[bytes, int, bytes]]:
    """(name, unfolded size, value) of each header field."""
    fields: list[tuple[bytes, int, list[bytes]]] = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and fields:
            name, size, value = fields[-1]
            value.append(line)
            fields[-1] = (name, size + len(line), value)
            continue
        name, _, first = line.partition(b":")
        fields.append((name.strip(), len(line), [first]))
    return [(name, size, b" ".join(value)) for name, size, value in fields]


def check_form(body: bytes, boundary: str, *, max_parts: int) -> None:
    """A multipart/form-data body with at most `max_parts` parts."""
    parts = body.count(b"--" + boundary.encode("latin-1", "replace")) - 1
    if parts > max_parts:
        raise InvalidInput(f"{parts:,} form parts is over the limit of {max_parts}", status=413)


def check_json_depth(raw: bytes, max_depth: int) -> None:
    """JSON nested no deeper than `max_depth` arrays and objects (strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                raise InvalidInput(f"JSON nested deeper than {max_depth} levels", status=400)
        elif byte in (0x5D, 0x7D):
            depth -= 1
