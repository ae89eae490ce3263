"""The simulated account of ``make run`` (``python -m cloud.simulator``): moto's server plus the vCPU quota."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from cloud.adapters.quotas import ec2_on_demand_vcpu_quota
from cloud.client import RoleLink, provider_client, reset_sessions
from cloud.simulator import ON_DEMAND_VCPUS
from tests.cloud.conftest import ACCOUNT_ID, REGION

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def simulator(moto_endpoint) -> Iterator[str]:
    """Start the simulator as ``make run`` does, in its own process, and point the clients at it (moto_endpoint
    is only asked for the dummy credentials it sets)."""
    port = _free_port()
    command = [sys.executable, "-m", "cloud.simulator", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the simulator did not start: {process.stderr.read().decode()[-2000:]}")
                time.sleep(0.1)
        with override_settings(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}"):
            reset_sessions()
            yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        reset_sessions()


def test_the_readiness_check_can_read_the_vcpu_quota_of_the_simulated_account(simulator):
    link = RoleLink(role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/PrimetimeAccess", external_id="primetime-demo")

    assert ec2_on_demand_vcpu_quota(link, REGION) == ON_DEMAND_VCPUS


def test_every_other_quota_is_moto_s_own(simulator):
    quotas = provider_client("service-quotas", REGION)

    assert quotas.get_service_quota(ServiceCode="vpc", QuotaCode="L-7E9ECCDB")["Quota"]["Value"] == 50.0
    with pytest.raises(quotas.exceptions.NoSuchResourceException):
        quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-34B43A08")  # spot vCPUs: not simulated
