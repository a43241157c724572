"""A quality form's weighted score, n/a, auto-fail and bad answers; a calibration's spread."""

from __future__ import annotations

import pytest

from switchboard.common.teams_config import QualityFormConfig
from switchboard.recording.quality import forms

FORM = QualityFormConfig.model_validate(
    {
        "id": "calls",
        "title": "Calls",
        "sections": [
            {
                "id": "open",
                "title": "Opening",
                "questions": [
                    {"id": "greeting", "text": "Greeted by script", "weight": 1},
                    {
                        "id": "identity",
                        "text": "Checked identity",
                        "weight": 3,
                        "auto_fail": True,
                        "allow_na": False,
                    },
                ],
            },
            {
                "id": "needs",
                "title": "Needs",
                "questions": [
                    {
                        "id": "listening",
                        "text": "Listening",
                        "kind": "scale",
                        "scale_max": 5,
                        "weight": 4,
                    },
                    {"id": "offer", "text": "Made the offer", "weight": 2},
                ],
            },
        ],
    }
)


def test_weighted_score_leaves_na_out_of_both_sides() -> None:
    result = forms.score(
        FORM, {"greeting": "yes", "identity": "yes", "listening": "3", "offer": "n/a"}
    )
    # (1 + 3 + 4 * 3/5) / (1 + 3 + 4) = 6.4 / 8
    assert result.score == 80.0
    assert (result.points, result.possible) == (6.4, 8.0)
    assert not result.auto_failed
    assert [q.points for q in result.questions] == [1.0, 3.0, 2.4, None]


def test_auto_fail_scores_zero_whatever_else_scored() -> None:
    result = forms.score(
        FORM, {"greeting": "yes", "identity": "No", "listening": "5", "offer": "yes"}
    )
    assert result.auto_failed and result.score == 0.0
    assert result.failed_on == ("identity",)
    assert result.points == 7.0  # what the answers earned is still shown


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({"greeting": "yes", "identity": "n/a", "listening": "1", "offer": "no"}, "cannot be"),
        ({"greeting": "maybe", "identity": "yes", "listening": "1", "offer": "no"}, "yes, no"),
        ({"greeting": "yes", "identity": "yes", "listening": "6", "offer": "no"}, "0-5"),
        ({"greeting": "yes", "identity": "yes", "listening": "1"}, "not answered"),
        (
            {"greeting": "yes", "identity": "yes", "listening": "1", "offer": "no", "x": "1"},
            "not on form",
        ),
    ],
)
def test_answers_the_form_does_not_allow_are_refused_with_the_reason(
    answers: dict[str, str], reason: str
) -> None:
    with pytest.raises(forms.AnswerError, match=reason):
        forms.score(FORM, answers)


def test_only_yes_no_questions_can_auto_fail() -> None:
    with pytest.raises(ValueError, match="only a yes/no question"):
        QualityFormConfig.model_validate(
            {
                "id": "f",
                "title": "F",
                "sections": [
                    {
                        "id": "s",
                        "title": "S",
                        "questions": [{"id": "q", "text": "Q", "kind": "scale", "auto_fail": True}],
                    }
                ],
            }
        )


def test_calibration_spread_per_question() -> None:
    by = {
        "ann": {"greeting": "yes", "identity": "yes", "listening": "5", "offer": "yes"},
        "ben": {"greeting": "no", "identity": "yes", "listening": "3", "offer": "n/a"},
        "cy": {"greeting": "yes", "identity": "yes", "listening": "4", "offer": "n/a"},
    }
    spread = {q.question_id: q for q in forms.spread(FORM, by)}
    assert spread["identity"].spread == 0.0
    assert spread["greeting"].spread == 1.0 and spread["greeting"].low == 0.0
    assert spread["listening"].low == 0.6 and spread["listening"].high == 1.0
    assert spread["listening"].spread == 0.4
    assert spread["listening"].deviation == pytest.approx(0.1633, abs=1e-4)
    assert spread["offer"].spread == 0.0 and spread["offer"].answers["ben"] == "n/a"
