"""Scorecards: an agent's or a team's figures over a period, against the tenant's targets, with
their weekly trend. Each figure is one aggregate query over the handlings wrapped in the period
(`handlings.py`), the same SQL on SQLite and PostgreSQL.

Definitions (per handling: one agent's part in one contact):

- handled: handlings wrapped in the period; calls_handled: those on the phone.
- average_handle_time: mean seconds from the agent's assignment to their wrap-up.
- after_call_work: mean seconds from the call's end to the wrap-up (calls only).
- contacts_per_hour / calls_per_hour: handled ÷ the agents' rostered hours on the period's days
  (from workforce's adherence reports; null without a roster).
- first_contact_resolution: handlings resolved with no later contact in the conversation ÷ handled.
- transfer_rate: handlings after which another agent took the contact ÷ handled.
- escalation_rate: handlings wrapped as "escalated" ÷ handled.
- sales, conversion_rate: outcome "sale"; ÷ handlings with a sales opportunity (sale or no_sale).
- csat, nps: survey answers about contacts the agent finished (the last to handle them).
- schedule_adherence: time in the rostered state ÷ rostered time, over the period's days.
- quality_score: mean score of the evaluations submitted in the period (auto-fails count as 0).
- data_entry_accuracy: 1 - (wrap-ups missing a field the tenant requires + handlings whose
  customer's details were later corrected) ÷ handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, exists, func, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from switchboard.common.teams_config import SCORECARD_TARGETS, QualityConfig
from switchboard.recording import adherence, saves
from switchboard.recording.casework import SurveyResponse
from switchboard.recording.customers import CustomerCorrection
from switchboard.recording.quality.handlings import Handling
from switchboard.recording.quality.store import Evaluation
from switchboard.recording.store import RecordedContact

MAX_WEEKS = 26


@dataclass(frozen=True)
class Scope:
    tenant_id: str
    agent_ids: tuple[str, ...]
    start: datetime
    end: datetime


def _ratio(numerator: Any, denominator: Any) -> Any:
    return case((denominator > 0, cast(numerator, Float) / denominator), else_=None)


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


async def figures(session: AsyncSession, scope: Scope, programme: QualityConfig) -> dict[str, Any]:
    """The scope's figures for its period (each null when its denominator is zero)."""
    h, c = Handling, RecordedContact
    later_contact = aliased(RecordedContact)
    later_handling = aliased(Handling)
    repeat = exists().where(
        and_(
            col(later_contact.conversation_id) == c.conversation_id,
            col(later_contact.contact_id) != c.contact_id,
            col(later_contact.received_at) > c.received_at,
        )
    )
    handed_on = exists().where(
        and_(
            col(later_handling.contact_id) == h.contact_id,
            col(later_handling.agent_id) != h.agent_id,
            col(later_handling.assigned_at) >= h.assigned_at,
        )
    )
    corrected = exists().where(
        and_(
            col(CustomerCorrection.customer_id) == c.customer_id,
            col(CustomerCorrection.at) > h.wrapped_at,
        )
    )
    incomplete = _incomplete(programme)
    calls = c.channel == "phone"
    query = (
        select(
            func.count().label("handled"),
            _count(calls).label("calls_handled"),
            func.avg(h.handle_seconds).label("average_handle_time"),
            func.avg(h.after_call_seconds).label("after_call_work"),
            _ratio(_count((col(h.outcome) == "resolved") & ~repeat), func.count()).label(
                "first_contact_resolution"
            ),
            _ratio(_count(handed_on), func.count()).label("transfer_rate"),
            _ratio(_count(h.outcome == "escalated"), func.count()).label("escalation_rate"),
            _count(h.outcome == "sale").label("sales"),
            _ratio(
                _count(h.outcome == "sale"), _count(col(h.outcome).in_(("sale", "no_sale")))
            ).label("conversion_rate"),
            _count(incomplete).label("wrapups_incomplete"),
            _count(corrected).label("records_corrected"),
        )
        .select_from(h)
        .join(c, col(c.contact_id) == h.contact_id, isouter=True)
        .where(*_handled_in(scope))
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    result: dict[str, Any] = {k: _rounded(v) for k, v in row._mapping.items()}
    handled = int(result["handled"] or 0)
    for name in ("handled", "calls_handled", "sales", "wrapups_incomplete", "records_corrected"):
        result[name] = int(result[name] or 0)
    errors = result["wrapups_incomplete"] + result["records_corrected"]
    result["data_entry_accuracy"] = round(1 - errors / handled, 4) if handled else None
    result.update(await _surveys(session, scope))
    result.update(await _rostered(session, scope, handled, result["calls_handled"]))
    result.update(await _quality(session, scope))
    result.update(
        await saves.of_agents(
            session,
            tenant_id=scope.tenant_id,
            agent_ids=scope.agent_ids,
            start=scope.start,
            end=scope.end,
        )
    )
    return result


def _handled_in(scope: Scope) -> list[Any]:
    h = Handling
    return [
        col(h.tenant_id) == scope.tenant_id,
        col(h.agent_id).in_(scope.agent_ids),
        col(h.wrapped_at) >= scope.start,
        col(h.wrapped_at) < scope.end,
    ]


def _incomplete(programme: QualityConfig) -> Any:
    h = Handling
    missing: list[Any] = []
    if "outcome" in programme.required_wrapup:
        missing.append(col(h.outcome).is_(None))
    if "notes" in programme.required_wrapup:
        missing.append(func.coalesce(h.notes_given, False) == False)  # noqa: E712 - SQL
    if not missing:
        return literal(False)
    condition = missing[0]
    for more in missing[1:]:
        condition = condition | more
    return condition


async def _surveys(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    s, h, c = SurveyResponse, Handling, RecordedContact
    answered = col(s.nps).is_not(None)
    query = (
        select(
            func.avg(s.csat).label("csat"),
            (
                100.0 * _ratio(_count(col(s.nps) >= 9) - _count(col(s.nps) <= 6), _count(answered))
            ).label("nps"),
            func.count().label("surveys"),
        )
        .select_from(s)
        .join(h, col(h.contact_id) == s.contact_id)
        .join(c, (col(c.contact_id) == h.contact_id) & (col(c.agent_id) == h.agent_id))
        .where(*_handled_in(scope))
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return {"csat": _rounded(row.csat), "nps": _rounded(row.nps), "surveys": int(row.surveys or 0)}


async def _rostered(
    session: AsyncSession, scope: Scope, handled: int, calls: int
) -> dict[str, Any]:
    scheduled, adherent = await adherence.rostered_seconds(
        session,
        tenant_id=scope.tenant_id,
        start=scope.start,
        end=scope.end,
        agent_ids=scope.agent_ids,
    )
    hours = scheduled / 3600
    return {
        "rostered_hours": round(hours, 2),
        "contacts_per_hour": round(handled / hours, 4) if hours else None,
        "calls_per_hour": round(calls / hours, 4) if hours else None,
        "schedule_adherence": adherence.ratio(adherent, scheduled),
    }


async def _quality(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    e = Evaluation
    query = select(func.avg(e.score).label("score"), func.count().label("n")).where(
        col(e.tenant_id) == scope.tenant_id,
        col(e.agent_id).in_(scope.agent_ids),
        col(e.calibration_id).is_(None),
        col(e.submitted_at) >= scope.start,
        col(e.submitted_at) < scope.end,
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return {"quality_score": _rounded(row.score), "evaluations": int(row.n or 0)}


def against_targets(figures_: dict[str, Any], targets: dict[str, float]) -> dict[str, Any]:
    """Each target with the figure, the gap (figure - target) and whether it is met."""
    result = {}
    for name, target in sorted(targets.items()):
        value = figures_.get(name)
        better = SCORECARD_TARGETS[name]
        met = None if value is None else (value <= target if better == "lower" else value >= target)
        gap = None if value is None else round(value - target, 4)
        result[name] = {"target": target, "value": value, "gap": gap, "better": better, "met": met}
    return result


def weeks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The period cut into weeks from its start (the last may be shorter), at most `MAX_WEEKS`."""
    cuts: list[tuple[datetime, datetime]] = []
    at = start
    while at < end and len(cuts) < MAX_WEEKS:
        cuts.append((at, min(at + timedelta(days=7), end)))
        at += timedelta(days=7)
    return cuts


async def scorecard(
    session: AsyncSession,
    scope: Scope,
    programme: QualityConfig,
    *,
    targets: dict[str, float],
    trend: bool,
) -> dict[str, Any]:
    card = await figures(session, scope, programme)
    result: dict[str, Any] = {"figures": card, "targets": against_targets(card, targets)}
    if trend:
        result["trend"] = [
            {
                "from": a.isoformat(),
                "to": b.isoformat(),
                "figures": await figures(
                    session, Scope(scope.tenant_id, scope.agent_ids, a, b), programme
                ),
            }
            for a, b in weeks(scope.start, scope.end)
        ]
    return result
