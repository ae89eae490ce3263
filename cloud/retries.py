"""How every AWS client retries: botocore's standard mode, with a first retry after tens of milliseconds.

botocore's standard mode waits ``rand(0, 1) * 2**i`` seconds before retry
``i`` of a throttled call. Built for bulk jobs, that first second costs a plan
apply about half a second per throttled call, several times the call itself:
an apply throttled on every other call took 6-9 s instead of 0.6 s, which
misses the fault suite's target (at most 3x the normal time, issue 8). Our
calls are few (tens per plan, one tenant's worker at a time) and each stands
between an engineer and a plan marked applied, so the first retry comes after
up to 50 ms (the scale botocore already uses for 5xx errors), then doubles.
A throttled call gets ten attempts in all, which keeps nearly the patience of
botocore's six at the one-second scale for a throttle that lasts: 13 s on
average and 26 s at most before the error reaches the task (theirs: 15 s and
31 s). Any other retryable error (a 5xx, a broken connection) keeps botocore's
six attempts and its own 50 ms scale: AWS down is not worth holding a worker.

Everything else stays botocore's: which errors are retried, the retry quota
that stops a retry storm when AWS is down, and ``x-amz-retry-after`` when
AWS says how long to wait.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from botocore.retries import quota, standard
from botocore.retries.base import BaseRetryableChecker, BaseRetryBackoff

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.client import BaseClient

TOTAL_MAX_ATTEMPTS = 10  # for a throttled call; the client's configured maximum
OTHER_MAX_ATTEMPTS = 6  # for any other retryable error, as botocore's standard mode
FIRST_RETRY_SCALE = 0.05  # seconds: the longest wait before the first retry
MAX_BACKOFF = 20.0  # seconds, botocore's cap
# AWS may ask for a longer wait; as botocore does, grant it up to this much more.
RETRY_AFTER_MAX_EXTRA = 5.0
RETRY_AFTER_HEADER = "x-amz-retry-after"


class QuickBackoff(BaseRetryBackoff):
    """Full-jitter exponential backoff from 50 ms: ``rand(0, 1) * min(cap, 0.05 * 2**i)`` before retry ``i``."""

    def __init__(
        self,
        first: float = FIRST_RETRY_SCALE,
        cap: float = MAX_BACKOFF,
        random: Callable[[], float] = random.random,
    ) -> None:
        self._first = first
        self._cap = cap
        self._random = random

    def delay_amount(self, context: standard.RetryContext) -> float:
        # attempt_number counts from 1: the first retry waits at most ``first``.
        delay = self._random() * min(self._cap, self._first * 2 ** (context.attempt_number - 1))
        asked = _retry_after(context)
        if asked is not None:
            delay = max(delay, min(asked, delay + RETRY_AFTER_MAX_EXTRA))
        return delay


class _Attempts(BaseRetryableChecker):
    """botocore's standard conditions, with ten attempts for a throttled call and six for anything else."""

    def __init__(self, throttling: standard.ThrottlingErrorDetector) -> None:
        self._throttling = throttling
        self._throttled = standard.StandardRetryConditions(max_attempts=TOTAL_MAX_ATTEMPTS)
        self._other = standard.StandardRetryConditions(max_attempts=OTHER_MAX_ATTEMPTS)

    def is_retryable(self, context: standard.RetryContext) -> bool:
        throttled = self._throttling.is_throttling_error_from_context(context)
        return (self._throttled if throttled else self._other).is_retryable(context)


def _retry_after(context: standard.RetryContext) -> float | None:
    if context.http_response is None:
        return None
    value = context.http_response.headers.get(RETRY_AFTER_HEADER)
    try:
        milliseconds = int(value)
    except (TypeError, ValueError):
        return None
    return milliseconds / 1000 if milliseconds >= 0 else None


def use_quick_backoff(client: BaseClient) -> BaseClient:
    """Put botocore's standard retry handler back on ``client`` with ``QuickBackoff``, and return the client.

    botocore builds its handler with a fixed backoff and offers no setting for
    it (boto/botocore#1205), so this builds the same handler from the same
    parts and registers it under botocore's own id, in place of the original.
    """
    event = client.meta.service_model.service_id.hyphenize()
    adapter = standard.RetryEventAdapter()
    throttling = standard.ThrottlingErrorDetector(adapter)
    retry_quota = standard.RetryQuotaChecker(quota.RetryQuota(), throttling)
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(retry_checker=_Attempts(throttling), retry_backoff=QuickBackoff()),
        retry_event_adapter=adapter,
        retry_quota=retry_quota,
        service_name=event,
    )
    # The original handler's quota release stays registered on its own, now unused, quota: harmless.
    client.meta.events.register(f"after-call.{event}", retry_quota.release_retry_quota)
    unique_id = f"retry-config-{event}"
    client.meta.events.unregister(f"needs-retry.{event}", unique_id=unique_id)
    client.meta.events.register(f"needs-retry.{event}", handler.needs_retry, unique_id=unique_id)
    return client
