from switchboard.routing.domain import DoNotRoute, QueueRule, Route, classify

QUEUES = [QueueRule("faults", 8, False), QueueRule("general", 5, True)]


def test_a_person_s_contact_goes_to_the_default_queue() -> None:
    decision = classify(channel="email", flags=[], queues=QUEUES)
    assert decision == Route("general", 5, "email contact to the tenant's default queue")


def test_machine_written_mail_is_never_routed() -> None:
    decision = classify(channel="email", flags=["auto_reply", "bulk"], queues=QUEUES)
    assert isinstance(decision, DoNotRoute)
    assert "auto_reply" in decision.reason and "bulk" in decision.reason


def test_a_tenant_without_a_default_queue_is_not_routed_and_says_why() -> None:
    decision = classify(channel="phone", flags=[], queues=[QueueRule("faults", 8, False)])
    assert decision == DoNotRoute("the tenant has no default queue configured")
