import pytest

from switchboard.common import topics


def test_registry_names_are_unique_and_follow_the_convention() -> None:
    names = [t.name for t in topics.REGISTRY]
    assert len(names) == len(set(names))
    for topic in topics.REGISTRY:
        aggregate, _, event = topic.name.partition(".")
        assert aggregate and event, topic.name
        if topic.envelope:
            assert topic.event_type == topic.name
        assert topic.dlq == topic.name + ".dlq"


def test_every_topic_has_its_dead_letter_twin() -> None:
    names = topics.all_topic_names()
    assert len(names) == 2 * len(topics.REGISTRY)
    assert "contact.received.dlq" in names


def test_lookup_by_event_type_and_unknown_names() -> None:
    assert topics.for_event_type("contact.queued") is topics.CONTACT_QUEUED
    with pytest.raises(KeyError, match="not in the topic registry"):
        topics.by_name("contact.nope")
