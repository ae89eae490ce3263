"""Automated probes of status components: claim the due ones, fetch each URL, and move statuses with hysteresis.

Every fetch goes through ``probes.http``, the shared prober with the SSRF guard: an address the guard refuses
is never fetched and counts as a failure whose reason is the refusal.

One probe gives one verdict:

- ``up``: an answer 2xx or 3xx within ``STATUS_PROBE_SLOW_MS``;
- ``slow``: an answer 2xx or 3xx, but slower than that;
- ``down``: anything else (no answer, timeout, refused by the guard, 4xx, 5xx).

``slow`` and ``down`` are failures. The page sets N (``probe_failures_to_degrade``) and M
(``probe_successes_to_recover``).

Status rule. After N failures in a row the component takes the status the last N verdicts give: every one
``down`` is a ``major_outage``, every one ``slow`` is ``degraded_performance``, a mix is a ``partial_outage``.
While the failures go on the probe keeps that rule on the last N verdicts, so a slowness that turns into
errors escalates (and the other way round). After M successes in a row it recovers to ``operational``. The
degradation and the recovery are dated at the first probe of their run, so uptime counts the whole outage,
not only the part after the hysteresis.

Ownership rule. The probe changes a component only from ``operational`` or from a status it set itself
(kept in ``last_probe["owned"]`` with the moment it began). A status a person or a maintenance set always
stands. Any change the probe did not make restarts the counting from that change. When a person changes a
status the probe had set (an engineer who says "operational, the probe is wrong", or a maintenance that
starts), the probe holds: it changes nothing until it has seen M successes in a row (the outage it reported
is over) or its URL changes; only new failures after that degrade the component again.

Draft rule. When the probe degrades an operational component and the page's ``probes_open_draft_incidents``
is on, it opens one draft incident naming the component and the evidence, unless an unresolved incident
(draft or published) already covers the component; escalations open nothing more. On recovery nothing
public is posted: a draft the probe opened and nobody published yet gets a ``resolved`` update (still a
draft, so no page, JSON or subscriber sees it), so an engineer who publishes it later tells the truth; an
incident an engineer published is left to the engineer.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from probes import http as prober
from status import services
from status.models import UNRESOLVED_STATUSES, Component, ComponentStatus, Incident
from status.statuspage import COMPONENT_INDICATOR

DEFAULT_TIMEOUT = 10.0
# The task's soft limit (status/tasks.py) leaves room above the longest fetch allowed here.
MAX_TIMEOUT = 20.0
DEFAULT_SLOW_MS = 2000
DEFAULT_BATCH = 200
MAX_REDIRECTS = 5
# Enough to time the answer; the probe judges the status code and the latency, never the body.
MAX_BODY_BYTES = 64 * 1024
# The page allows at most 20 failures before degrading: never more verdicts to remember.
MAX_REMEMBERED_VERDICTS = 20


class Verdict(models.TextChoices):
    UP = "up", gettext_lazy("Up")
    SLOW = "slow", gettext_lazy("Slow")
    DOWN = "down", gettext_lazy("Down")


@dataclass(frozen=True)
class ProbeOutcome:
    """What one probe found and what it changed."""

    verdict: Verdict
    reason: str
    old_status: str
    new_status: str
    draft: Incident | None = None


# --- Settings -----------------------------------------------------------------------


def probe_timeout() -> float:
    """Return the per-request timeout in seconds (``STATUS_PROBE_TIMEOUT``)."""
    value = float(getattr(settings, "STATUS_PROBE_TIMEOUT", DEFAULT_TIMEOUT))
    if not 0 < value <= MAX_TIMEOUT:
        raise ImproperlyConfigured(f"STATUS_PROBE_TIMEOUT={value!r}: give seconds between 0 and {MAX_TIMEOUT:g}.")
    return value


def slow_ms() -> int:
    """Return the latency above which an answer counts as slow (``STATUS_PROBE_SLOW_MS``)."""
    value = int(getattr(settings, "STATUS_PROBE_SLOW_MS", DEFAULT_SLOW_MS))
    if value <= 0:
        raise ImproperlyConfigured(f"STATUS_PROBE_SLOW_MS={value!r}: give a positive number of milliseconds.")
    return value


def batch_size() -> int:
    """Return how many components one dispatch hands to the probes queue at most (``STATUS_PROBE_BATCH``)."""
    value = int(getattr(settings, "STATUS_PROBE_BATCH", DEFAULT_BATCH))
    if value <= 0:
        raise ImproperlyConfigured(f"STATUS_PROBE_BATCH={value!r}: give a positive number.")
    return value


# --- Dispatch ---------------------------------------------------------------------------


def _next_probe_at(seen: datetime | None, interval: int, now: datetime) -> datetime:
    # Keep each component's cadence (a beat every 15 s would otherwise add its lag to every interval),
    # but never schedule in the past: after a stop the probes resume, they do not catch up in a burst.
    step = timedelta(seconds=interval)
    if seen is not None and seen + step > now:
        return seen + step
    return now + step


def probes_claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim at most ``limit`` components whose probe is due and return their ids, oldest due first.

    Each claim moves ``next_probe_at`` forward by the component's interval with a conditional update on the
    value read, so two dispatchers (two beats, or a beat and a retry) never claim one component twice.
    """
    due = (
        Component.objects.exclude(probe_url="")
        .filter(Q(next_probe_at__isnull=True) | Q(next_probe_at__lte=now))
        .order_by(F("next_probe_at").asc(nulls_first=True), "pk")
        .values_list("pk", "next_probe_at", "probe_interval_seconds")[:limit]
    )
    claimed = []
    for pk, seen, interval in due:
        same = Q(next_probe_at__isnull=True) if seen is None else Q(next_probe_at=seen)
        moved = Component.objects.filter(same, pk=pk).update(next_probe_at=_next_probe_at(seen, interval, now))
        if moved == 1:
            claimed.append(pk)
    return claimed


def probes_dispatch(*, now: datetime | None = None) -> list[int]:
    """Claim the due components and enqueue one probe each on the probes queue, after commit."""
    from status.tasks import status_component_task

    now = now or timezone.now()
    with transaction.atomic():
        claimed = probes_claim_due(now=now, limit=batch_size())
        for pk in claimed:
            transaction.on_commit(lambda pk=pk: status_component_task.delay(pk))
    return claimed


# --- One probe ------------------------------------------------------------------------------


def classify(result: prober.ProbeResult, *, limit_ms: int) -> tuple[Verdict, str]:
    """Return the verdict of one fetch and a sentence saying why (in the active language)."""
    latency = round(result.elapsed_ms)
    if result.refused:
        return Verdict.DOWN, _("Refused by the SSRF guard, never fetched: %(why)s") % {"why": result.error}
    if result.error is not None:
        return Verdict.DOWN, _("No usable answer: %(why)s") % {"why": result.error}
    if result.status is None or not 200 <= result.status < 400:
        return Verdict.DOWN, _("Answered HTTP %(status)s in %(ms)d ms.") % {"status": result.status, "ms": latency}
    if latency > limit_ms:
        return Verdict.SLOW, _("Answered HTTP %(status)s in %(ms)d ms, slower than the %(limit)d ms limit.") % {
            "status": result.status,
            "ms": latency,
            "limit": limit_ms,
        }
    return Verdict.UP, _("Answered HTTP %(status)s in %(ms)d ms.") % {"status": result.status, "ms": latency}


def status_for_failures(verdicts: list[str]) -> ComponentStatus:
    """Return the status a run of failures gives: all down is a major outage, all slow degraded, a mix partial."""
    if all(verdict == Verdict.DOWN for verdict in verdicts):
        return ComponentStatus.MAJOR_OUTAGE
    if all(verdict == Verdict.SLOW for verdict in verdicts):
        return ComponentStatus.DEGRADED_PERFORMANCE
    return ComponentStatus.PARTIAL_OUTAGE


def component_probe(*, component_id: int, now: datetime | None = None) -> ProbeOutcome | None:
    """Probe one component's URL and apply the result; return None when there is nothing to probe any more.

    The fetch runs outside any transaction (no lock is held while waiting on the network); the result is
    applied under a lock on the component row.
    """
    component = Component.objects.select_related("page").filter(pk=component_id).exclude(probe_url="").first()
    if component is None:
        return None
    url = component.probe_url
    result = prober.fetch(url, timeout=probe_timeout(), max_redirects=MAX_REDIRECTS, max_body_bytes=MAX_BODY_BYTES)
    return probe_result_apply(component_id=component_id, url=url, result=result, at=now or timezone.now())


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _when(moment: datetime, zone: str) -> str:
    """Return a moment as people of the page read it: in its time zone, to the second."""
    return formats.date_format(moment.astimezone(zoneinfo.ZoneInfo(zone)), "Y-m-d H:i:s T")


def probe_result_apply(*, component_id: int, url: str, result: prober.ProbeResult, at: datetime) -> ProbeOutcome | None:
    """Record one probe result of ``url`` taken at ``at`` and move the component's status as the rules say."""
    with transaction.atomic():
        locked = Component.objects.select_for_update(of=("self",)).filter(pk=component_id).first()
        if locked is None or locked.probe_url != url:
            return None  # deleted, or its URL changed while we fetched: this result says nothing about it now
        if locked.last_probed_at is not None and locked.last_probed_at >= at:
            return None  # a later probe (a redelivered task ran beside this one) is already recorded
        page = locked.page
        with translation.override(page.language):
            return _apply(locked, url=url, result=result, at=at)


def _apply(locked: Component, *, url: str, result: prober.ProbeResult, at: datetime) -> ProbeOutcome:
    page = locked.page
    need_failures, need_successes = page.probe_failures_to_degrade, page.probe_successes_to_recover
    verdict, reason = classify(result, limit_ms=slow_ms())
    previous = locked.last_probe or {}
    failures, successes = locked.probe_failures, locked.probe_successes
    streak: list[str] = list(previous.get("streak", []))
    streak_started = _parse(previous.get("streak_started_at"))
    held = bool(previous.get("held"))
    draft_id = previous.get("draft_incident", "")

    # 1. What changed since the last probe without the probe: ownership and counting start over.
    owned = previous.get("owned")
    owns = bool(owned) and owned["status"] == locked.status and _parse(owned["since"]) == locked.status_since
    if owned and not owns:
        held, owned = True, None
    seen_since = _parse(previous.get("seen_since"))
    url_changed = bool(previous) and previous.get("url") != url
    if (seen_since is not None and seen_since != locked.status_since) or url_changed:
        failures, successes, streak, streak_started = 0, 0, [], None
    if url_changed:
        held = False

    # 2. Count this verdict.
    if verdict == Verdict.UP:
        if successes == 0:
            streak_started = at
        successes, failures, streak = successes + 1, 0, []
    else:
        if failures == 0:
            streak_started = at
        failures, successes = failures + 1, 0
        streak = [*streak, verdict.value][-MAX_REMEMBERED_VERDICTS:]

    # 3. Decide.
    old_status = locked.status
    draft = None
    since_text = _when(streak_started or at, page.time_zone)
    if held:
        if successes >= need_successes:
            held = False
    elif owns and successes >= need_successes:
        why = _("The automatic probe succeeded %(count)d times in a row since %(since)s: %(reason)s") % {
            "count": successes,
            "since": since_text,
            "reason": reason,
        }
        _status_set(locked, ComponentStatus.OPERATIONAL, at=streak_started or at, why=why)
        owned = None
        _draft_resolve(draft_id, component=locked, why=why)
        draft_id = ""
    elif failures >= need_failures and (owns or locked.status == ComponentStatus.OPERATIONAL):
        target = status_for_failures(streak[-need_failures:])
        if target != locked.status:
            why = _("The automatic probe failed %(count)d times in a row since %(since)s: %(reason)s") % {
                "count": failures,
                "since": since_text,
                "reason": reason,
            }
            # A first degradation dates from the first failure; a change between failures from now.
            when = at if owns else (streak_started or at)
            _status_set(locked, target, at=when, why=why)
            owned = {"status": target.value, "since": locked.status_since.isoformat()}
            if old_status == ComponentStatus.OPERATIONAL and page.probes_open_draft_incidents:
                draft = _draft_open(locked, url=url, reason=reason, failures=failures, since_text=since_text)
                draft_id = draft.public_id if draft is not None else draft_id

    last_probe = {
        "url": url,
        "at": at.isoformat(),
        "status_code": result.status,
        "latency_ms": round(result.elapsed_ms),
        "error": result.error,
        "refused": result.refused,
        "verdict": verdict.value,
        "reason": reason,
        "streak": streak,
        "streak_started_at": streak_started.isoformat() if streak_started else None,
        "seen_since": locked.status_since.isoformat(),
        "owned": owned,
        "held": held,
        "draft_incident": draft_id,
    }
    Component.objects.filter(pk=locked.pk).update(
        last_probe=last_probe, last_probed_at=at, probe_failures=failures, probe_successes=successes
    )
    return ProbeOutcome(verdict=verdict, reason=reason, old_status=old_status, new_status=locked.status, draft=draft)


def _status_set(component: Component, status: str, *, at: datetime, why: str) -> None:
    # Never before the current status began: uptime would count those seconds twice.
    at = max(at, component.status_since)
    services.component_status_set(component=component, status=status, by=None, at=at, why=why)


def _draft_open(component: Component, *, url: str, reason: str, failures: int, since_text: str) -> Incident | None:
    covered = Incident.objects.filter(
        kind=Incident.Kind.INCIDENT, components=component, status__in=UNRESOLVED_STATUSES
    ).exists()
    if covered:
        return None
    body = _(
        "The automatic probe of **%(component)s** failed %(count)d times in a row since %(since)s.\n\n"
        "- Address probed: %(url)s\n"
        "- Last result: %(reason)s\n\n"
        "Check what viewers see, then publish this incident or leave it unpublished."
    ) % {"component": component.name, "count": failures, "since": since_text, "url": url, "reason": reason[:2000]}
    return services.incident_create(
        page=component.page,
        by=None,
        name=_("%(component)s is failing its automatic probe") % {"component": component.name},
        body=body,
        impact=COMPONENT_INDICATOR[component.status],
        component_statuses={component: component.status},
        draft=True,
    )


def _draft_resolve(draft_id: str, *, component: Component, why: str) -> None:
    if not draft_id:
        return
    draft = Incident.objects.filter(public_id=draft_id, is_draft=True, status__in=UNRESOLVED_STATUSES).first()
    if draft is None:
        return  # published (the engineer's to close) or already closed
    services.incident_update_post(
        incident=draft,
        by=None,
        status=Incident.Status.RESOLVED,
        body=_("%(component)s recovered on its own. %(why)s") % {"component": component.name, "why": why},
        deliver_notifications=False,
    )
