"""Run one check for one target, cut at its own timeout, and close the run when it was the last."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from readiness.context import CheckContext
from readiness.models import CheckResult, Outcome, ReadinessRun
from readiness.registry import Check, Finding, checks
from readiness.scoring import verdict_and_score

logger = logging.getLogger(__name__)


def _run_with_timeout(check: Check, context: CheckContext, target: str) -> Finding:
    """Run the check in a watchdog thread so that one hanging URL or API call cannot hold the run.

    A thread that overruns is abandoned (it is a daemon); its finding is an error.
    """
    outcome: dict[str, Finding | BaseException] = {}

    def work() -> None:
        try:
            outcome["finding"] = check.run(context, target)
        except BaseException as error:  # noqa: BLE001 - reported as the check's error below
            outcome["error"] = error
        finally:
            # This thread's own database connection, if the check opened one, must not
            # linger until garbage collection: a run has hundreds of checks.
            connections.close_all()

    thread = threading.Thread(target=work, name=f"check-{check.id}", daemon=True)
    thread.start()
    thread.join(check.timeout)
    if thread.is_alive():
        return Finding.error(
            _("The check did not finish within %(seconds)s s; it was stopped.") % {"seconds": f"{check.timeout:g}"},
            timeout_s=check.timeout,
        )
    if "error" in outcome:
        error = outcome["error"]
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        logger.warning("readiness check %s on %r failed to run: %s", check.id, target, message, exc_info=error)
        return Finding.error(_("The check could not run: %(why)s") % {"why": message})
    return outcome["finding"]


def checks_execute(*, result_ids: list[int], resumed: bool = False) -> None:
    """Execute a batch of planned checks (one target's checks), one after the other, sharing one context.

    ``resumed`` says an earlier delivery of this very batch ended without finishing it (its worker was killed,
    or it was retried after losing the database): the checks it had claimed and not finished run again.
    """
    contexts: dict[int, CheckContext] = {}
    for result_id in result_ids:
        check_execute(result_id=result_id, contexts=contexts, resumed=resumed)


def check_execute(*, result_id: int, contexts: dict[int, CheckContext] | None = None, resumed: bool = False) -> None:
    """Execute one planned check; safe to run twice (the second run finds it claimed or done).

    A check claimed and never finished belongs to the batch's earlier delivery; when ``resumed`` that
    delivery is over, so the claim is taken over instead of leaving the run open until the reaper gives up.
    Were the earlier one still running after all, the finding is stored once: the first to finish writes it.
    """
    started = timezone.now()
    pending = CheckResult.objects.filter(pk=result_id, outcome=Outcome.PENDING)
    claimed = (pending if resumed else pending.filter(started_at=None)).update(started_at=started)
    if claimed != 1:
        return
    result = CheckResult.objects.select_related("run__event__stack", "run__event__organization").get(pk=result_id)
    registry = {check.id: check for check in checks()}
    check = registry.get(result.check_id)
    clock = time.perf_counter()
    if check is None:
        finding = Finding.error(_("This check no longer exists."))
    else:
        contexts = {} if contexts is None else contexts
        context = contexts.setdefault(result.run.event_id, CheckContext(event=result.run.event))
        finding = _run_with_timeout(check, context, result.target)
    duration_ms = round((time.perf_counter() - clock) * 1000)
    CheckResult.objects.filter(pk=result_id, outcome=Outcome.PENDING).update(
        outcome=finding.outcome,
        message=finding.message,
        evidence=finding.evidence,
        remediation=finding.remediation,
        duration_ms=duration_ms,
        finished_at=timezone.now(),
    )
    run_finish_if_done(run_id=result.run_id)


def run_finish_if_done(*, run_id: int) -> bool:
    """Close the run once no check is pending: verdict and score; exactly one caller closes it."""
    if CheckResult.objects.filter(run_id=run_id, outcome=Outcome.PENDING).exists():
        return False
    findings = CheckResult.objects.filter(run_id=run_id).values_list("severity", "outcome")
    verdict, score = verdict_and_score(findings)
    with transaction.atomic():
        closed = ReadinessRun.objects.filter(pk=run_id, status=ReadinessRun.Status.RUNNING).update(
            status=ReadinessRun.Status.COMPLETED, verdict=verdict, score=score, finished_at=timezone.now()
        )
    return closed == 1


def runs_reap_stale(*, now=None, grace: timedelta = timedelta(minutes=2)) -> int:
    """Give up on checks whose worker died or whose message was lost, so no run stays open forever."""
    now = now or timezone.now()
    longest = max((check.timeout for check in checks()), default=60)
    started_cutoff = now - timedelta(seconds=longest) - grace
    queued_cutoff = now - timedelta(minutes=15)
    stale = CheckResult.objects.filter(outcome=Outcome.PENDING).filter(
        Q(started_at__lt=started_cutoff) | Q(started_at__isnull=True, run__created_at__lt=queued_cutoff)
    )
    run_ids = set(stale.values_list("run_id", flat=True))
    count = stale.update(
        outcome=Outcome.ERROR,
        message=_("The worker stopped before finishing this check; run readiness again."),
        finished_at=now,
    )
    for run_id in run_ids:
        run_finish_if_done(run_id=run_id)
    return count
