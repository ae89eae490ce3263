"""Status page tasks.

The probe tasks come first: their names start with ``probes.``, so they run on the probes queue
(portal/celery.py), whose worker concurrency bounds how many probes run at once. Other status tasks
(publishing, maintenance, notifications) go below them.
"""

from __future__ import annotations

from celery import shared_task

from status import probing

# --- Probes -------------------------------------------------------------------------

# A probe's fetch ends within STATUS_PROBE_TIMEOUT (20 s at most, see status/probing.py); the limits are a net
# above it. A failed probe is data, not an error: nothing is retried, the next due time probes again.


@shared_task(name="probes.dispatch_status_probes", soft_time_limit=20, time_limit=30)
def dispatch_status_probes_task() -> int:
    """Hand each status component whose probe is due to the probes queue (beat, every 15 s)."""
    return len(probing.probes_dispatch())


@shared_task(name="probes.status_component", soft_time_limit=40, time_limit=50)
def status_component_task(component_id: int) -> str | None:
    """Probe one component's URL and move its status with hysteresis; return the verdict."""
    outcome = probing.component_probe(component_id=component_id)
    return outcome.verdict.value if outcome is not None else None


# --- Other status tasks --------------------------------------------------------------
