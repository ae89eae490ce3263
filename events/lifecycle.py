"""The media event's state machine: which transition leads where, and who may make it.

    draft → submitted → accepted → preparing → ready → on_air → completed → reviewed
    cancelled from any state before on_air

``on_air`` and ``completed`` belong to the clock (a beat task); engineers can
also move an event along when reality is ahead of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from events.models.events import MediaEvent

Status = MediaEvent.Status


class Actor(StrEnum):
    CLIENT = "client"  # an owner or member of the organization
    OWNER = "owner"  # an owner of the organization
    ENGINEER = "engineer"
    CLOCK = "clock"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    actors: frozenset[Actor]
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    transition.name: transition
    for transition in [
        Transition(
            "submit",
            _("Submit for review"),
            frozenset({Status.DRAFT}),
            Status.SUBMITTED,
            frozenset({Actor.CLIENT, Actor.OWNER, Actor.ENGINEER}),
        ),
        Transition("accept", _("Accept"), frozenset({Status.SUBMITTED}), Status.ACCEPTED, frozenset({Actor.ENGINEER})),
        Transition(
            "prepare", _("Start preparing"), frozenset({Status.ACCEPTED}), Status.PREPARING, frozenset({Actor.ENGINEER})
        ),
        Transition(
            "mark_ready", _("Mark ready"), frozenset({Status.PREPARING}), Status.READY, frozenset({Actor.ENGINEER})
        ),
        Transition(
            "go_on_air",
            _("Put on air"),
            frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.PREPARING, Status.READY}),
            Status.ON_AIR,
            frozenset({Actor.CLOCK, Actor.ENGINEER}),
        ),
        Transition(
            "complete",
            _("Complete"),
            frozenset({Status.ON_AIR}),
            Status.COMPLETED,
            frozenset({Actor.CLOCK, Actor.ENGINEER}),
        ),
        Transition(
            "review", _("Mark reviewed"), frozenset({Status.COMPLETED}), Status.REVIEWED, frozenset({Actor.ENGINEER})
        ),
        Transition(
            "cancel",
            _("Cancel"),
            frozenset({Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED, Status.PREPARING, Status.READY}),
            Status.CANCELLED,
            frozenset({Actor.OWNER, Actor.ENGINEER}),
            needs_reason=True,
        ),
    ]
}


def transitions_from(status: str) -> list[Transition]:
    """Return the transitions the state machine allows from a status, whoever asks."""
    return [transition for transition in TRANSITIONS.values() if status in transition.sources]


def next_statuses(status: str) -> list[str]:
    return sorted({transition.target for transition in transitions_from(status)})


def actor_roles(user, organization, *, membership_roles: Mapping[int, str] | None = None) -> set[Actor]:
    """Return the roles in which a user may act on an organization's events.

    ``membership_roles`` (organization id → role) saves a query per event when listing many.
    """
    if user is None:
        return {Actor.CLOCK}
    roles: set[Actor] = set()
    if user.is_engineer:
        roles.add(Actor.ENGINEER)
    role = membership_roles.get(organization.pk) if membership_roles is not None else organization.role_of(user)
    if role is not None:
        roles.add(Actor.CLIENT)
        if role == "owner":
            roles.add(Actor.OWNER)
    return roles


def transitions_for(event: MediaEvent, user, *, membership_roles: Mapping[int, str] | None = None) -> list[Transition]:
    """Return the transitions this user may make on the event now (for buttons and the API)."""
    roles = actor_roles(user, event.organization, membership_roles=membership_roles)
    return [transition for transition in transitions_from(event.status) if transition.actors & roles]
