"""Card numbers, TFNs and Medicare numbers given by customers are masked before anything leaves
intake: on Kafka, in recording, and never in any log line or span."""

from __future__ import annotations

import time

from switchboard.cli import samples
from tests.integration.harness import RunningCentre

CARD, TFN, MEDICARE = "4111 1111 1111 1111", "123 456 782", "2123 45670 1"
RAW_FORMS = [
    CARD,
    CARD.replace(" ", ""),
    TFN,
    TFN.replace(" ", ""),
    MEDICARE,
    MEDICARE.replace(" ", ""),
]


def test_sensitive_numbers_are_masked_everywhere(centre: RunningCentre) -> None:
    email = centre.email(
        subject=f"Payment with card {CARD}",
        body=f"Please use card {CARD}. My TFN is {TFN} and Medicare {MEDICARE}.",
    )
    emailed = centre.post_email(email).json()
    scan = samples.scanned_png([f"Card {CARD}", f"TFN {TFN}"])
    lettered = centre.post_document(
        "/v1/letter", {"batch_id": f"P-{time.time_ns()}", "item": "1"}, scan
    ).json()

    contact = centre.wait_contact(emailed["contact_id"])
    assert contact["subject"] == "Payment with card [card ending 1111]"
    assert (
        contact["text"]
        == "Please use card [card ending 1111]. My TFN is [TFN] and Medicare [Medicare number]."
    )
    assert contact["masked"] == ["card", "tfn", "medicare"]
    letter = centre.wait_contact(lettered["contact_id"])
    assert "[card ending 1111]" in letter["text"] and "[TFN]" in letter["text"]
    assert set(letter["masked"]) == {"card", "tfn"}

    time.sleep(1.5)  # let batched span exports reach the files
    values = [r.value for r in centre.read_topic("contact.received")]
    assert any(b"[card ending 1111]" in v for v in values)
    places = {
        "kafka": b"\n".join(values).decode(errors="replace"),
        **{f"log {p.name}": p.read_text() for p in centre.settings.log_dir.glob("*.log")},
        **{f"spans {p.name}": p.read_text() for p in centre.settings.trace_dir.glob("*.jsonl")},
    }
    for place, text in places.items():
        for raw in RAW_FORMS:
            assert raw not in text, f"{raw!r} found in {place}"
