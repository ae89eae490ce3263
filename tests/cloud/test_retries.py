"""The retry policy of every AWS client: botocore's standard mode with a first retry after at most 50 ms, and ten
attempts for a throttled call."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import RetryContext

from cloud import retries
from cloud.client import provider_client
from cloud.errors import translate_errors
from cloud.exceptions import AccessDenied, TransientCloudError
from cloud.retries import QuickBackoff
from tests.cloud.conftest import REGION
from tests.faults import aws_fault_proxy
from tests.faults.aws_fault_proxy import ACCESS_DENIED, SERVICE_UNAVAILABLE, THROTTLING, always, storm

fault_proxy = aws_fault_proxy.fault_proxy
DESCRIBE_GROUPS = "autoscaling:DescribeAutoScalingGroups"


def _context(attempt: int, headers: dict[str, str] | None = None) -> RetryContext:
    response = AWSResponse("https://autoscaling.eu-west-3.amazonaws.com/", 400, headers or {}, raw=None)
    return RetryContext(attempt_number=attempt, http_response=response)


def test_the_first_retry_waits_at_most_50_ms_and_the_longest_wait_doubles_up_to_20_s():
    longest = QuickBackoff(random=lambda: 1.0)

    waits = [longest.delay_amount(_context(attempt)) for attempt in range(1, 12)]

    assert waits == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 20.0, 20.0])
    # Full jitter: any wait from none to the longest.
    assert QuickBackoff(random=lambda: 0.0).delay_amount(_context(4)) == 0.0
    assert QuickBackoff(random=lambda: 0.5).delay_amount(_context(2)) == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("1500", 1.5),  # AWS asked for 1.5 s: granted
        ("60000", 5.0),  # a minute: granted up to 5 s more than our own wait
        ("soon", 0.0),  # not a number of milliseconds: ignored
        ("-200", 0.0),
    ],
)
def test_a_wait_that_aws_asks_for_is_granted_up_to_five_seconds_more(header, wait):
    backoff = QuickBackoff(random=lambda: 0.0)

    assert backoff.delay_amount(_context(1, {"x-amz-retry-after": header})) == pytest.approx(wait)


def test_a_throttle_six_calls_long_is_ridden_out_by_the_clients_own_retries_with_short_waits(fault_proxy, monkeypatch):
    """Through the fault proxy: botocore's own handler would give up after six attempts, ours takes seven
    and computes each wait with QuickBackoff, so the call succeeds having waited well under a second."""
    waits: list[float] = []
    compute = QuickBackoff.delay_amount

    def recording(self, context):
        waits.append(compute(self, context))
        return waits[-1]

    monkeypatch.setattr(QuickBackoff, "delay_amount", recording)
    fault_proxy.rule = storm(THROTTLING, length=6, operations=[DESCRIBE_GROUPS])

    groups = provider_client("autoscaling", REGION).describe_auto_scaling_groups()["AutoScalingGroups"]

    assert groups == []
    stats = fault_proxy.stats[DESCRIBE_GROUPS]
    assert (stats.requests, stats.faulted, stats.forwarded) == (7, 6, 1)
    assert len(waits) == 6, waits
    assert all(0 <= wait <= retries.FIRST_RETRY_SCALE * 2**retry for retry, wait in enumerate(waits)), waits


def test_throttling_past_the_last_attempt_reaches_the_caller_as_transient(fault_proxy, monkeypatch):
    # The attempts are what this is about; the waits (13 s on average) are the test above's.
    monkeypatch.setattr(QuickBackoff, "delay_amount", lambda self, context: 0.0)
    fault_proxy.rule = storm(THROTTLING, length=retries.TOTAL_MAX_ATTEMPTS, operations=[DESCRIBE_GROUPS])

    with pytest.raises(TransientCloudError), translate_errors("autoscaling", "DescribeAutoScalingGroups"):
        provider_client("autoscaling", REGION).describe_auto_scaling_groups()

    assert fault_proxy.stats[DESCRIBE_GROUPS].requests == retries.TOTAL_MAX_ATTEMPTS


def test_any_other_retryable_error_keeps_botocores_six_attempts(fault_proxy):
    # AWS answering 503 on and on: fail over to the task's retry after six attempts, not ten.
    fault_proxy.rule = always(SERVICE_UNAVAILABLE, operations=[DESCRIBE_GROUPS])

    with pytest.raises(TransientCloudError), translate_errors("autoscaling", "DescribeAutoScalingGroups"):
        provider_client("autoscaling", REGION).describe_auto_scaling_groups()

    assert fault_proxy.stats[DESCRIBE_GROUPS].requests == retries.OTHER_MAX_ATTEMPTS == 6


def test_access_denied_is_not_retried(fault_proxy):
    fault_proxy.rule = always(ACCESS_DENIED, operations=[DESCRIBE_GROUPS])

    with pytest.raises(AccessDenied), translate_errors("autoscaling", "DescribeAutoScalingGroups"):
        provider_client("autoscaling", REGION).describe_auto_scaling_groups()

    assert fault_proxy.stats[DESCRIBE_GROUPS].requests == 1
