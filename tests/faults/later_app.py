"""The portal's Celery app on a clock moved ``FAULTS_CLOCK_SHIFT`` seconds ahead: workers and beat that come back
hours later, for the scenario where they were all down through an event's revert time.

Start it as ``celery -A tests.faults.later_app worker`` (or ``beat``). The clock still ticks; only its starting
point moves, in this process and in the pool processes it forks. PostgreSQL, Redis and moto keep the real time,
as they would: only the portal's own processes were away.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import time_machine

_shift = timedelta(seconds=float(os.environ["FAULTS_CLOCK_SHIFT"]))
time_machine.travel(datetime.now(UTC) + _shift, tick=True).start()

from portal.celery import app  # noqa: E402  (the clock moves before Django and Celery read it)

__all__ = ["app"]
