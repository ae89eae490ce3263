"""Every URL pattern of the project, each turned into a real address of the demo world.

The walkers of the security suite (headers, CSRF) go through the URL configuration itself, so a new
page is covered the day it is added. Parameters are filled with objects the demo seed created (the
client "maison-lumiere" and its events, status page, runbooks...); a parameter nothing here knows gets
a placeholder, and the answer (often a 404) is still checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Model
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

ORG = "maison-lumiere"


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    params: tuple[str, ...]


def _params(pattern) -> tuple[str, ...]:
    regex = pattern.pattern.regex
    return tuple(regex.groupindex)


def routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    """Yield every named pattern once (format-suffix variants of the API left out)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            for route in routes(pattern, prefix + str(pattern.pattern), inner):
                yield Route(route.route, route.name, _params(pattern) + route.params)
        elif isinstance(pattern, URLPattern) and pattern.name:
            params = _params(pattern)
            if "format" in params:
                continue
            yield Route(prefix + str(pattern.pattern), namespace + pattern.name, params)


def _pk(model: type[Model], **lookup) -> int:
    obj = model.objects.filter(**lookup).order_by("pk").first()
    return obj.pk if obj is not None else 999_999


def _public_id(model: type[Model], **lookup) -> str:
    obj = model.objects.filter(**lookup).order_by("pk").first()
    return obj.public_id if obj is not None else "zzzzzzzzzzzz"


class Sampler:
    """Fill a route's parameters with the demo world's objects."""

    def __init__(self):
        from events.models import MediaEvent

        events = MediaEvent.objects.filter(organization__slug=ORG)
        self.on_air = events.filter(status=MediaEvent.Status.ON_AIR).order_by("pk").first() or events.first()
        self.reported = events.filter(report__isnull=False).order_by("pk").first() or events.first()
        self.upcoming = events.filter(air_start__gt=self.on_air.air_start).order_by("air_start").first() or self.on_air

    def event_for(self, route: str):
        if "/live/" in route or "/readiness/" in route or "/scaling/" in route:
            return self.on_air
        if "/report/" in route:
            return self.reported
        return self.upcoming

    def kwargs(self, route: Route) -> dict:
        from readiness.models import ReadinessRun
        from reports.models import CalibrationSuggestion
        from runbooks.models import RunbookStep
        from scaling.models import PlanTarget, ScalingPlan
        from status.models import Component, ComponentGroup, Incident, StatusPage

        r = route.route
        event = self.event_for(r)
        page_filter = {"page__organization__slug": ORG} if r.startswith("o/") else {"page__organization__isnull": True}
        values: dict[str, object] = {}
        for param in route.params:
            if param in {"org", "slug"}:
                values[param] = ORG
            elif param == "pk":
                values[param] = self._pk_for(r, event)
            elif param == "run":
                values[param] = _pk(ReadinessRun, event=self.event_for(r))
            elif param == "plan":
                values[param] = _pk(ScalingPlan, event=self.event_for(r))
            elif param == "target":
                values[param] = _pk(PlanTarget, plan__event=self.event_for(r))
            elif param == "suggestion":
                values[param] = _pk(CalibrationSuggestion)
            elif param == "component":
                values[param] = _pk(Component, **page_filter)
            elif param == "group":
                values[param] = _pk(ComponentGroup, **page_filter)
            elif param == "incident":
                kind = "maintenance" if "/maintenance/" in r else "incident"
                values[param] = _pk(Incident, kind=kind, **page_filter)
            elif param == "step":
                values[param] = _pk(RunbookStep)
            elif param == "public_id":
                model = {
                    "status-pages": StatusPage,
                    "status-component-groups": ComponentGroup,
                    "status-components": Component,
                    "status-incidents": Incident,
                    "status-maintenances": Incident,
                }
                key = re.search(r"\^([a-z-]+)/", r)
                found = model.get(key.group(1) if key else "", Incident)
                values[param] = _public_id(found)
            elif param == "name" and r.startswith("status/"):
                values[param] = "api/v2/summary.json" if "json" in r else "feed.atom"
            else:
                values[param] = "x" if param not in {"action", "decision", "status", "name"} else "approve"
        return values

    def _pk_for(self, r: str, event) -> int:
        from accounts.models import ApiToken, Invitation, Membership
        from readiness.models import ReadinessRun
        from runbooks.models import Runbook, RunbookExecution
        from scaling.models import ScalingPlan
        from stacks.models import Stack
        from status.models import StatusPage

        table = [
            ("accounts/tokens/", lambda: _pk(ApiToken)),
            ("/members/", lambda: _pk(Membership, organization__slug=ORG)),
            ("/invitations/", lambda: _pk(Invitation)),
            ("invitations/", lambda: _pk(Invitation)),
            ("/events/", lambda: event.pk),
            ("/stacks/", lambda: _pk(Stack, organization__slug=ORG)),
            ("/status-pages/", lambda: _pk(StatusPage, organization__slug=ORG)),
            ("runbook-executions/", lambda: _pk(RunbookExecution)),
            ("runbooks/executions/", lambda: _pk(RunbookExecution)),
            ("engineering/runbooks/", lambda: _pk(Runbook)),
            ("^memberships/", lambda: _pk(Membership, organization__slug=ORG)),
            ("^tokens/", lambda: _pk(ApiToken)),
            ("^stacks/", lambda: _pk(Stack, organization__slug=ORG)),
            ("^events/", lambda: event.pk),
            ("^readiness-runs/", lambda: _pk(ReadinessRun)),
            ("^scaling-plans/", lambda: _pk(ScalingPlan)),
        ]
        for marker, value in table:
            if marker in r:
                return value()
        return 999_999

    def url(self, route: Route) -> str:
        kwargs = self.kwargs(route)
        if "app_label" in kwargs:
            kwargs["app_label"] = "accounts"
        try:
            return reverse(route.name, kwargs=kwargs)
        except NoReverseMatch:
            # An integer converter (the admin's content_type_id...): placeholders become numbers.
            return reverse(route.name, kwargs={key: 1 if value == "x" else value for key, value in kwargs.items()})


def seed_demo_world() -> None:
    """Load the demo data (the seed refuses with DEBUG off unless forced)."""
    from django.core.management import call_command

    call_command("seed_demo", force=True, stdout=_Null())


class _Null:
    def write(self, *_args, **_kwargs) -> None:
        pass

    def flush(self) -> None:
        pass
