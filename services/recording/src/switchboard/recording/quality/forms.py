"""Scoring an evaluation against its form, and the spread of a calibration: pure rules, no I/O.

A yes/no question scores its weight for "yes" and nothing for "no"; a scale question scores
weight * answer ÷ scale_max. "n/a" leaves the question out of both the points and the points
possible. The score is points ÷ points possible * 100, or 0 when an auto-fail question is answered
"no" (a compliance breach fails the contact whatever else went well).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import pstdev

from switchboard.common.teams_config import QualityFormConfig, QuestionConfig

NA = "n/a"


class AnswerError(ValueError):
    """An answer the form does not allow; the message says which and why."""


@dataclass(frozen=True)
class QuestionScore:
    section: str
    question: str
    answer: str
    points: float | None
    out_of: float | None


@dataclass(frozen=True)
class Score:
    score: float
    """0-100 (rounded to two places); 0 when auto-failed."""
    auto_failed: bool
    points: float
    possible: float
    questions: tuple[QuestionScore, ...]
    failed_on: tuple[str, ...]
    """The auto-fail questions answered "no"."""


def _points(question: QuestionConfig, answer: str) -> tuple[float | None, float | None]:
    if answer == NA:
        if not question.allow_na:
            raise AnswerError(f"question {question.id} cannot be answered n/a")
        return None, None
    if question.kind == "yes_no":
        if answer not in ("yes", "no"):
            raise AnswerError(f"question {question.id} takes yes, no or n/a, not {answer!r}")
        return (question.weight if answer == "yes" else 0.0), question.weight
    try:
        point = int(answer)
    except ValueError:
        raise AnswerError(f"question {question.id} takes 0-{question.scale_max}") from None
    if not 0 <= point <= question.scale_max:
        raise AnswerError(f"question {question.id} takes 0-{question.scale_max}, not {point}")
    return question.weight * point / question.scale_max, question.weight


def score(form: QualityFormConfig, answers: dict[str, str]) -> Score:
    """Every question answered, each as its kind allows; raises `AnswerError` otherwise."""
    known = {q.id for s in form.sections for q in s.questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise AnswerError(f"questions not on form {form.id}: {unknown}")
    missing = sorted(known - set(answers))
    if missing:
        raise AnswerError(f"questions not answered: {missing}")
    scored: list[QuestionScore] = []
    failed: list[str] = []
    for section in form.sections:
        for question in section.questions:
            answer = str(answers[question.id]).strip().lower()
            points, out_of = _points(question, answer)
            if question.auto_fail and answer == "no":
                failed.append(question.id)
            scored.append(QuestionScore(section.title, question.text, answer, points, out_of))
    earned = sum(q.points or 0.0 for q in scored)
    possible = sum(q.out_of or 0.0 for q in scored)
    percent = 100.0 * earned / possible if possible else 100.0
    return Score(
        score=0.0 if failed else round(percent, 2),
        auto_failed=bool(failed),
        points=round(earned, 4),
        possible=round(possible, 4),
        questions=tuple(scored),
        failed_on=tuple(failed),
    )


@dataclass(frozen=True)
class QuestionSpread:
    question_id: str
    answers: dict[str, str]
    """Each evaluator's answer."""
    low: float | None
    high: float | None
    spread: float | None
    """high - low of the points as a share of the question's weight (0: all agree; 1: as far
    apart as the question allows); None when every evaluator answered n/a."""
    deviation: float | None
    """Population standard deviation of those shares."""


def spread(
    form: QualityFormConfig, by_evaluator: dict[str, dict[str, str]]
) -> list[QuestionSpread]:
    """How far several evaluators' answers to the same contact lie apart, per question."""
    result = []
    for section in form.sections:
        for question in section.questions:
            answers = {who: str(a[question.id]).strip().lower() for who, a in by_evaluator.items()}
            shares = [
                points / question.weight
                for points, _ in (_points(question, answer) for answer in answers.values())
                if points is not None
            ]
            result.append(
                QuestionSpread(
                    question_id=question.id,
                    answers=answers,
                    low=round(min(shares), 4) if shares else None,
                    high=round(max(shares), 4) if shares else None,
                    spread=round(max(shares) - min(shares), 4) if shares else None,
                    deviation=round(pstdev(shares), 4) if shares else None,
                )
            )
    return result
