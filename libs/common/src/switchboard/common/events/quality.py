"""Events of the quality programme: evaluations shown to the agent and their answer, a team
leader's feedback, and coaching sessions (whose follow-up dates escalation keeps)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from switchboard.common.envelope import Payload


class ScoredQuestion(BaseModel):
    section: str
    question: str
    answer: str
    """"yes", "no", "n/a", or the scale point given."""
    points: float | None
    out_of: float | None


class EvaluationPublished(Payload):
    """A submitted evaluation of one of the agent's contacts, for the agent to acknowledge or
    dispute (published again, with its status, when they answer or calibration changes it)."""

    event_type = "quality.evaluation"

    evaluation_id: str
    agent_id: str
    evaluated_contact_id: str
    form_title: str = Field(max_length=200)
    evaluator: str = Field(max_length=200)
    score: float
    """0-100; an auto-fail scores 0."""
    auto_failed: bool
    comment: str | None = Field(default=None, max_length=4000)
    questions: list[ScoredQuestion] = Field(max_length=1000)
    status: Literal["submitted", "acknowledged", "disputed"]


class EvaluationAnswered(Payload):
    """The agent acknowledged an evaluation, or disputed it with their reason."""

    event_type = "evaluation.answered"

    evaluation_id: str
    agent_id: str
    answer: Literal["acknowledged", "disputed"]
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackPosted(Payload):
    """A team leader's feedback to a whole team or to one agent."""

    event_type = "quality.feedback"

    feedback_id: str
    author: str = Field(max_length=200)
    team: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


class CoachingAction(BaseModel):
    text: str = Field(min_length=1, max_length=500)
    done: bool = False


class CoachingPlanned(Payload):
    """A coaching session for an agent, linked to evaluations or scorecard gaps, with its actions
    and follow-up date; published again as it changes (`status` "done" ends it)."""

    event_type = "quality.coaching"

    coaching_id: str
    agent_id: str
    coach: str = Field(max_length=200)
    topic: str = Field(max_length=500)
    evaluation_ids: list[str] = Field(default_factory=list, max_length=50)
    scorecard_gaps: list[str] = Field(default_factory=list, max_length=20)
    actions: list[CoachingAction] = Field(default_factory=list, max_length=50)
    follow_up_at: datetime | None = None
    status: Literal["planned", "done"] = "planned"
