"""`switchboard demo`: hands in one contact on each channel exactly as a channel system would
(signed), then waits for recording to have each one, as an operator would see it."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from switchboard.cli import samples
from switchboard.common.settings import Settings
from switchboard.common.signing import signed_headers


class ChannelSystems:
    """The demo tenant's channel systems, from the credentials file."""

    def __init__(self, settings: Settings, creds: dict[str, Any]) -> None:
        self.settings = settings
        self.creds = creds
        self.tenant = creds["operator_tenant"]
        self.addresses = creds["tenants"][self.tenant]

    def post(self, path: str, body: bytes, content_type: str, *, system_suffix: str) -> str:
        system_id, secret = next(
            (k, v["secret"])
            for k, v in self.creds["channel_systems"].items()
            if v["tenant"] == self.tenant and k.endswith(system_suffix)
        )
        headers = {"Content-Type": content_type, **signed_headers(system_id, secret, body)}
        url = self.settings.base_url("intake") + path
        response = httpx.post(url, content=body, headers=headers, timeout=120)
        response.raise_for_status()
        return str(response.json()["contact_id"])


def send_email(systems: ChannelSystems) -> str:
    message = EmailMessage()
    message["From"] = "Jordan Citizen <jordan.citizen@example.net>"
    message["To"] = systems.addresses["email"]
    message["Subject"] = "Power keeps dropping out at my place"
    message["Message-ID"] = make_msgid(domain="example.net")
    message.set_content(
        "Hello,\n\nThe power at 12 Example Street has dropped out three times this week, "
        "usually in the evening. Could someone take a look?\n\nThanks,\nJordan"
    )
    return systems.post("/v1/email", message.as_bytes(), "message/rfc822", system_suffix="mail")


def send_call(systems: ChannelSystems) -> str:
    """A whole call: offered (with the caller's IVR choice), answered, ended."""
    call_id = f"demo-{secrets.token_hex(4)}"
    now = datetime.now(UTC).isoformat()
    events = [
        {
            "event": "offered",
            "ani": "0412 345 678",
            "dnis": systems.addresses["phone"],
            "ivr": ["2"],
        },
        {"event": "answered", "agent_ref": "ext-201"},
        {"event": "ended", "duration_seconds": 185},
    ]
    contact_id = ""
    for event in events:
        body = json.dumps({"call_id": call_id, "at": now, **event}).encode()
        contact_id = systems.post("/v1/phone/events", body, "application/json", system_suffix="cti")
    return contact_id


def form(fields: dict[str, str], document: bytes | None) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and the document as `file` (if there is one)."""
    boundary = "sb-" + secrets.token_hex(8)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    if document is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + document
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send_letter(systems: ChannelSystems) -> str:
    pdf = samples.text_pdf(
        ["Dear Acme Energy,", "Please move my account to 3 Sample Road.", "Alex"]
    )
    fields = {"batch_id": f"DEMO-{secrets.token_hex(3)}", "item": "1", "sender_name": "Alex Smith"}
    body, content_type = form(fields, pdf)
    return systems.post("/v1/letter", body, content_type, system_suffix="mailroom")


def send_fax(systems: ChannelSystems) -> str:
    lines = ["FAX TO ACME ENERGY", "Please send a technician on Monday."]
    tiff = samples.scanned_tiff([lines], fax=True)
    fields = {
        "fax_id": f"demo-{secrets.token_hex(4)}",
        "called_number": systems.addresses["fax"],
        "calling_number": "02 5550 7777",
    }
    body, content_type = form(fields, tiff)
    return systems.post("/v1/fax", body, content_type, system_suffix="mailroom")


def wait_recorded(
    settings: Settings, creds: dict[str, Any], contact_id: str, timeout: float
) -> dict[str, Any] | None:
    """The recorded contact once recording has it and routing's decision, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {creds['operator_token']}"}
    url = settings.base_url("recording") + f"/v1/contacts/{contact_id}"
    with httpx.Client(headers=headers, timeout=10) as client:  # one client for all the asking
        while time.monotonic() < deadline:
            response = client.get(url)
            if response.status_code == 200:
                contact = dict(response.json())
                types = {entry["event_type"] for entry in contact["timeline"]}
                if "contact.received" in types and types & {"contact.queued", "contact.not_routed"}:
                    return contact
            time.sleep(0.2)
    return None


def send_sms(systems: ChannelSystems) -> str:
    body = {
        "message_id": f"demo-{secrets.token_hex(4)}",
        "from": "0412 345 678",
        "to": systems.addresses["sms"],
        "text": "Hi, is the outage in Example Street fixed yet?",
    }
    return systems.post(
        "/v1/sms", json.dumps(body).encode(), "application/json", system_suffix="sms"
    )


SENDERS = {
    "email": send_email,
    "phone": send_call,
    "sms": send_sms,
    "letter": send_letter,
    "fax": send_fax,
}


def run_demo(settings: Settings, *, timeout: float = 30.0) -> tuple[list[dict[str, Any]], bool]:
    creds = json.loads(settings.credentials_file.read_text(encoding="utf-8"))
    systems = ChannelSystems(settings, creds)
    sent = {
        channel: send(systems)
        for channel, send in SENDERS.items()
        if channel != "sms" or systems.addresses.get("sms")  # a centre may take no SMS
    }
    lines = []
    for channel, contact_id in sent.items():
        contact = wait_recorded(settings, creds, contact_id, timeout)
        lines.append(
            {
                "contact_id": contact_id,
                "channel": channel,
                "recorded": contact is not None,
                "status": contact["status"] if contact else None,
                "queue_id": contact["queue_id"] if contact else None,
                "text": (contact["text"] or "")[:60] if contact else None,
                "timeline": [e["event_type"] for e in contact["timeline"]] if contact else [],
            }
        )
    return lines, all(line["recorded"] for line in lines)
