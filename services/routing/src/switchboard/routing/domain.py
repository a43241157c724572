"""Routing's rules, free of I/O and of time: which queue a contact belongs in, what a queue requires
of an agent after a given wait, and whether an agent meets it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from switchboard.common.centre import QueueConfig, RuleConfig
from switchboard.common.promises_config import HoursConfig

# Contacts written by machines are recorded but never offered to an agent (no mail loops).
NEVER_ROUTED_FLAGS = ("auto_reply", "bulk", "null_return_path")
VOICE = "phone"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

QueueKey = tuple[str, str]
"""(tenant_id, queue_id)."""


@dataclass(frozen=True)
class ContactTraits:
    """What classification looks at."""

    channel: str
    destination: str = ""
    ivr: Sequence[str] = ()
    text: str = ""
    tier: str | None = None
    language: str | None = None
    flags: Sequence[str] = ()


@dataclass(frozen=True)
class Route:
    queue_id: str
    priority: int
    rule: str
    reason: str


@dataclass(frozen=True)
class DoNotRoute:
    reason: str


def classify(
    traits: ContactTraits, *, queues: Sequence[QueueConfig], rules: Sequence[RuleConfig]
) -> Route | DoNotRoute:
    """The first rule whose every given condition holds picks the queue (and may raise the
    priority); otherwise the tenant's default queue."""
    automated = [f for f in traits.flags if f in NEVER_ROUTED_FLAGS]
    if automated:
        return DoNotRoute(f"automated message ({', '.join(automated)}): recorded, not offered")
    by_id = {q.id: q for q in queues}
    for rule in rules:
        if rule.queue in by_id and _matches(rule, traits):
            queue = by_id[rule.queue]
            return Route(
                queue.id,
                rule.priority or queue.priority,
                rule.name,
                f"{traits.channel} contact matched rule {rule.name!r}",
            )
    default = next((q for q in queues if q.default), None)
    if default is None:
        return DoNotRoute("no rule matched and the tenant has no default queue")
    return Route(
        default.id, default.priority, "default", f"{traits.channel} contact to the default queue"
    )


def _matches(rule: RuleConfig, traits: ContactTraits) -> bool:
    text = traits.text.casefold()
    if rule.channel and traits.channel not in rule.channel:
        return False
    if rule.ivr and not any(choice in rule.ivr for choice in traits.ivr):
        return False
    if rule.destination and traits.destination.casefold() not in _folded(rule.destination):
        return False
    if rule.keywords and not any(word.casefold() in text for word in rule.keywords):
        return False
    if rule.tier and traits.tier not in rule.tier:
        return False
    return not rule.language or traits.language in rule.language


def _folded(values: Sequence[str]) -> set[str]:
    return {v.casefold() for v in values}


def is_open(hours: Sequence[HoursConfig], local: datetime) -> bool:
    """Whether a queue is staffed at `local` (the tenant's wall-clock time); no hours = always."""
    if not hours:
        return True
    day, clock = WEEKDAYS[local.weekday()], local.strftime("%H:%M")
    return any(day in h.days and h.open <= clock < h.close for h in hours)


def next_open(hours: Sequence[HoursConfig], local: datetime) -> datetime | None:
    """The first moment at or after `local` (wall-clock, time zone attached) within `hours`:
    `local` itself when open now; None when the hours never open."""
    if is_open(hours, local):
        return local
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        opens = sorted(
            datetime.combine(day, time.fromisoformat(h.open), tzinfo=local.tzinfo)
            for h in hours
            if WEEKDAYS[day.weekday()] in h.days
        )
        for moment in opens:
            if moment >= local:
                return moment
    return None


CALLBACK_PREFIX = "callback:"


def callback_request_id(contact_id: str, attempt: int) -> str:
    """The DNC request of a callback's attempt: the same attempt asks with the same id, so a
    redelivery is one request."""
    return f"{CALLBACK_PREFIX}{contact_id}:{attempt}"


def callback_of(request_id: str) -> tuple[str, int] | None:
    """(contact, attempt) of a callback's DNC request id, or None for anyone else's request."""
    if not request_id.startswith(CALLBACK_PREFIX):
        return None
    contact_id, _, attempt = request_id.removeprefix(CALLBACK_PREFIX).rpartition(":")
    return (contact_id, int(attempt)) if contact_id and attempt.isdigit() else None


@dataclass(frozen=True)
class CallbackDecision:
    outcome: str
    """connected, retry or unreachable."""
    reason: str
    retry_at: datetime | None = None


def after_dial(
    outcome: str,
    reason: str,
    *,
    attempt: int,
    max_attempts: int,
    retry_after: timedelta,
    hours: Sequence[HoursConfig],
    local_now: datetime,
) -> CallbackDecision:
    """What a callback's dial result means: the customer answered, or another try at the next
    moment within calling hours after the pause, or, after the last try, unreachable."""
    if outcome == "answered":
        return CallbackDecision("connected", "the customer answered")
    if outcome in ("connected", "delivered"):  # taken by a platform that reports no answer
        return CallbackDecision("connected", f"the dial was {outcome}")
    why = f"attempt {attempt} of {max_attempts}: {outcome.replace('_', ' ')}"
    if reason:
        why += f" ({reason})"
    if attempt >= max_attempts:
        return CallbackDecision("unreachable", why)
    retry_at = next_open(hours, local_now + retry_after)
    if retry_at is None:
        return CallbackDecision("unreachable", why + "; no calling hours to try again in")
    return CallbackDecision("retry", why, retry_at)


@dataclass(frozen=True)
class Admission:
    """Where a classified contact finally waits, or why it is turned away."""

    queue_id: str | None
    reason: str


def admit(
    route: Route,
    *,
    queues: Mapping[str, QueueConfig],
    waiting: Mapping[str, int],
    local: datetime,
) -> Admission:
    """Apply business hours and the waiting cap, following redirections (at most one per queue,
    so a loop in the configuration cannot hang routing)."""
    queue_id, notes, seen = route.queue_id, [route.reason], set()
    while queue_id not in seen:
        seen.add(queue_id)
        queue = queues[queue_id]
        if not is_open(queue.hours, local) and queue.when_closed != "wait":
            notes.append(f"queue {queue_id!r} is closed")
            action = queue.when_closed
        elif queue.max_waiting is not None and waiting.get(queue_id, 0) >= queue.max_waiting:
            notes.append(f"queue {queue_id!r} is full ({queue.max_waiting} waiting)")
            action = queue.when_full
        else:
            return Admission(queue_id, "; ".join(notes))
        if action == "reject":
            return Admission(None, "; ".join(notes))
        notes.append(f"sent to {action!r}")
        queue_id = action
    return Admission(None, "; ".join([*notes, "redirections loop"]))


# -- requirements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    after_seconds: float
    drop_skills: frozenset[str] = frozenset()
    min_proficiency: int | None = None
    add_groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Requirement:
    skills: Mapping[str, int]
    """Skill → minimum proficiency, the primary skill first."""
    groups: frozenset[str]
    """Agents in these groups qualify whatever their skills."""
    step: str

    @property
    def primary(self) -> str | None:
        return next(iter(self.skills), None)


@dataclass(frozen=True)
class QueueSpec:
    tenant_id: str
    queue_id: str
    skills: Mapping[str, int]
    priority: int = 5
    service_level_percent: int = 80
    service_level_seconds: int = 20
    steps: tuple[Step, ...] = ()
    overflow_after: float | None = None
    overflow_to: tuple[QueueKey, ...] = ()
    offer_timeouts: Mapping[str, int] = field(default_factory=dict)

    @property
    def key(self) -> QueueKey:
        return (self.tenant_id, self.queue_id)

    @classmethod
    def from_config(cls, tenant_id: str, queue: QueueConfig) -> QueueSpec:
        steps = sorted(
            (
                Step(
                    s.after_seconds,
                    frozenset(s.drop_skills),
                    s.min_proficiency,
                    frozenset(s.add_groups),
                )
                for s in queue.steps
            ),
            key=lambda s: s.after_seconds,
        )
        overflow = queue.overflow
        return cls(
            tenant_id=tenant_id,
            queue_id=queue.id,
            skills=dict(queue.skills),
            priority=queue.priority,
            service_level_percent=queue.service_level_percent,
            service_level_seconds=queue.service_level_seconds,
            steps=tuple(steps),
            overflow_after=overflow.after_seconds if overflow else None,
            overflow_to=tuple(_queue_key(tenant_id, t) for t in overflow.to) if overflow else (),
            offer_timeouts={str(k): v for k, v in queue.offer_timeout_seconds.items()},
        )

    def level_at(self, waited: float) -> int:
        """How many routing steps are in force after `waited` seconds in line."""
        return sum(1 for step in self.steps if step.after_seconds <= waited)

    def threshold(self, level: int) -> float:
        """The wait after which `level` steps are in force."""
        return 0.0 if level == 0 else self.steps[level - 1].after_seconds

    def requirement(self, level: int) -> Requirement:
        skills, groups = dict(self.skills), frozenset[str]()
        for step in self.steps[:level]:
            skills = {s: m for s, m in skills.items() if s not in step.drop_skills}
            if step.min_proficiency is not None:
                skills = {s: min(m, step.min_proficiency) for s, m in skills.items()}
            groups |= step.add_groups
        described = "base requirements" if level == 0 else _describe_step(self, level)
        return Requirement(skills, groups, described)


def _describe_step(queue: QueueSpec, level: int) -> str:
    step = queue.steps[level - 1]
    changes = [f"drop {', '.join(sorted(step.drop_skills))}"] if step.drop_skills else []
    if step.min_proficiency is not None:
        changes.append(f"proficiency floor {step.min_proficiency}")
    if step.add_groups:
        changes.append(f"add group {', '.join(sorted(step.add_groups))}")
    return f"step {level} after {step.after_seconds:g}s ({'; '.join(changes) or 'no change'})"


def _queue_key(tenant_id: str, target: str) -> QueueKey:
    partner, _, queue_id = target.rpartition("/")
    return (partner or tenant_id, queue_id)


def qualifies(skills: Mapping[str, int], groups: frozenset[str], need: Requirement) -> bool:
    if groups & need.groups:
        return True
    return all(skills.get(skill, 0) >= floor for skill, floor in need.skills.items())


def lowest_level(
    skills: Mapping[str, int], groups: frozenset[str], requirements: Sequence[Requirement]
) -> int | None:
    """The fewest routing steps after which an agent with these skills qualifies for a queue
    (`requirements[level]` is what the queue asks after `level` steps)."""
    for level, need in enumerate(requirements):
        if qualifies(skills, groups, need):
            return level
    return None


def lending_refused(
    home: str, wanted: Sequence[str], configs: Mapping[str, Mapping[str, object]]
) -> str | None:
    """Why an agent of tenant `home` may not serve `wanted`, or None. Serving another tenant shows
    its customers to `home`'s agent, so it needs the written agreement both ways, as overflow does:
    `home` lists the tenant among its `overflow_partners` (it takes that tenant's contacts), and
    that tenant sends overflow to one of `home`'s queues (its own configuration chooses `home`)."""
    if home not in wanted:
        return f"an agent changed here must serve tenant {home!r}"
    for other in wanted:
        if other == home:
            continue
        config = configs.get(other)
        if config is None:
            return f"no tenant {other!r}"
        takes = other in _strings(configs.get(home, {}).get("overflow_partners"))
        sends = any(
            target.startswith(f"{home}/")
            for queue in _mappings(config.get("queues"))
            for target in _strings(_mapping(queue.get("overflow")).get("to"))
        )
        if not (takes and sends):
            return (
                f"serving tenant {other!r} needs the overflow agreement: {home!r} lists it in its "
                f"overflow_partners and {other!r} overflows into a queue of {home!r}"
            )
    return None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: object) -> list[Mapping[str, object]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
