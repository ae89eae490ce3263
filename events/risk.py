"""How worried the engineers should be about an event, and why, from facts already on the row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from django.utils.translation import gettext as _

from events.models import MediaEvent

Status = MediaEvent.Status
PRE_REVIEW = {Status.DRAFT, Status.SUBMITTED}
NOT_READY = {Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED, Status.PREPARING}


class Level(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True)
class Risk:
    level: Level
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return {Level.LOW: _("low"), Level.MEDIUM: _("medium"), Level.HIGH: _("high")}[self.level]

    @property
    def css(self) -> str:
        return {Level.LOW: "ok", Level.MEDIUM: "warn", Level.HIGH: "bad"}[self.level]


def event_risk(event: MediaEvent, *, now: datetime) -> Risk:
    """Rate an upcoming event: little time left for its status, no engineer, or a spike far above normal."""
    if event.is_locked():
        return Risk(Level.LOW, ())
    left = event.air_start - now
    level = Level.LOW
    reasons: list[str] = []

    def raise_to(new: Level, reason: str) -> None:
        nonlocal level
        level = max(level, new)
        reasons.append(reason)

    if event.status in PRE_REVIEW and left < timedelta(days=7):
        raise_to(Level.HIGH if left < timedelta(days=2) else Level.MEDIUM, _("not reviewed yet"))
    if event.status in NOT_READY and left < timedelta(hours=24):
        raise_to(Level.HIGH, _("not ready with less than 24 h left"))
    if event.assignee_id is None and event.status not in PRE_REVIEW:
        raise_to(Level.MEDIUM, _("no engineer assigned"))
    shortfall = getattr(event, "capacity_shortfall", None)
    if shortfall:
        raise_to(Level.HIGH, _("capacity short 10 minutes before air"))
    normal = event.stack.normal_peak_rps if event.stack_id else 0
    if normal and event.peak_origin_rps_high > 10 * normal:
        raise_to(Level.HIGH, _("high forecast is over 10× the normal peak"))
    elif normal and event.peak_origin_rps > 3 * normal:
        raise_to(Level.MEDIUM, _("likely peak is over 3× the normal peak"))
    elif not normal:
        raise_to(Level.MEDIUM, _("the stack's normal peak is unknown"))
    return Risk(level, tuple(reasons))
