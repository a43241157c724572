"""The desktop's rules without a database: who may act on a contact, how transfers share it until
each agent wraps up, and who hears of a promise nearly due or broken."""

from __future__ import annotations

from switchboard.desktop.domain import Holding, alerted, assigned, reason_gone, refusal, wrapped


def test_only_the_holder_acts_while_it_is_in_their_hands() -> None:
    mine = Holding("amy", "assigned")
    assert refusal(mine, "amy") is None
    assert refusal(mine, "bob") == (403, "this contact is not assigned to you")
    assert refusal(Holding("amy", "wrapping"), "amy") == (
        409,
        "this contact is wrapping, not in your hands",
    )
    assert refusal(Holding("bob", "assigned", ("amy",)), "amy") is None


def test_a_warm_transfer_shares_the_contact_until_each_wraps_up() -> None:
    handed = assigned(Holding("amy", "assigned"), "bob")
    assert handed == Holding("bob", "assigned", ("amy",))
    assert assigned(Holding(None, "queued"), "bob") == Holding("bob", "assigned")
    left, its_own = wrapped(handed, "amy")
    assert (left, its_own) == (Holding("bob", "assigned"), False)
    done, its_own = wrapped(left, "bob")
    assert (done.status, its_own) == ("wrapped", True)


def test_an_alert_whose_reason_has_gone_is_not_told() -> None:
    assert reason_gone("first_response", replied=True, status="assigned", outcome=None)
    assert not reason_gone("resolution", replied=True, status="wrapped", outcome="escalated")
    assert reason_gone("resolution", replied=False, status="wrapped", outcome="resolved")
    assert not reason_gone("follow_up", replied=True, status="wrapped", outcome="resolved")


def test_the_level_and_the_holder_hear_of_an_alert() -> None:
    assert alerted(["lee"], Holding("amy", "assigned")) == ["amy", "lee"]
    assert alerted(["lee"], Holding("amy", "wrapped")) == ["lee"]
    assert alerted(["lee"], None) == ["lee"]  # a contact the desktop never saw
