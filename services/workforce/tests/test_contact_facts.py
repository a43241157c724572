"""A contact's figures from its facts, whatever order the facts were told in."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from switchboard.workforce import domain
from switchboard.workforce.domain import ContactFacts, Figures

T0 = datetime(2026, 12, 7, 0, 2, tzinfo=UTC)
Fold = Callable[[ContactFacts], ContactFacts]


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _told(*folds: Fold) -> set[Figures]:
    """The figures after every order of telling."""
    results = set()
    for order in itertools.permutations(folds):
        facts = ContactFacts()
        for fold in order:
            facts = fold(facts)
        results.add(domain.contact_figures(facts, target_seconds=20))
    return results


QUEUED = partial(domain.queued, queue_id="billing", channel="phone", at=T0)


def test_nothing_counts_until_the_first_queueing_is_known() -> None:
    facts = domain.answered(ContactFacts(), at=_at(12), waited=12)
    assert domain.contact_figures(facts, target_seconds=20) == Figures()


def test_a_wrap_up_told_before_its_answer_still_counts_the_handle_time() -> None:
    wrapped = partial(domain.wrapped, at=_at(312))
    answered = partial(domain.answered, at=_at(12), waited=12.0)
    assert _told(QUEUED, wrapped, answered) == {
        Figures(
            offered=1,
            handled=1,
            answered_in_target=1,
            wait_seconds=12,
            wrapped=1,
            handle_seconds=300,
        )
    }


def test_a_hang_up_before_the_answer_is_an_abandon_even_if_the_answer_is_told_first() -> None:
    hung_up = partial(domain.abandoned, at=_at(40))
    late_answer = partial(domain.answered, at=_at(45), waited=45.0)
    assert _told(QUEUED, hung_up, late_answer) == {Figures(offered=1, abandoned=1, wait_seconds=40)}


def test_the_first_answer_and_the_first_queueing_win() -> None:
    at_the_pbx = partial(domain.answered, at=_at(8), waited=None)
    by_the_acd = partial(domain.answered, at=_at(30), waited=30.0)
    requeued = partial(domain.queued, queue_id="sales", channel="phone", at=_at(400))
    [figures] = _told(QUEUED, at_the_pbx, by_the_acd, requeued)
    assert (figures.handled, figures.wait_seconds, figures.answered_in_target) == (1, 8, 1)
    facts = ContactFacts()
    for fold in (requeued, at_the_pbx, QUEUED):
        facts = fold(facts)
    assert (facts.queue_id, facts.queued_at) == ("billing", T0)


def test_the_same_fact_told_again_changes_nothing() -> None:
    facts = domain.abandoned(QUEUED(ContactFacts()), at=_at(40))
    assert domain.abandoned(facts, at=_at(40)) is facts
    assert domain.abandoned(facts, at=_at(41)) is facts
