"""The client factory: one configuration, assumed-role sessions cached until shortly before they expire."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import time_machine

from cloud import client
from cloud.client import BOTO_CONFIG, RoleLink, assumed_session, aws_client, forget_link, session_name_for
from tests.cloud.conftest import REGION


def _count_assume_role(monkeypatch) -> list[str | None]:
    calls: list[str | None] = []
    real = client.assume_role

    def counting(*args, **kwargs):
        calls.append(kwargs.get("external_id"))
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "assume_role", counting)
    return calls


def test_boto_config_uses_standard_retries_and_timeouts():
    # Ten attempts in all; cloud.retries sets how long each retry waits.
    assert dict(BOTO_CONFIG.retries) == {"mode": "standard", "total_max_attempts": 10}
    assert (BOTO_CONFIG.connect_timeout, BOTO_CONFIG.read_timeout) == (5, 20)
    assert BOTO_CONFIG.user_agent_extra == "primetime"


def test_clients_point_at_the_simulated_account_with_the_shared_config(link, moto_endpoint):
    ecs = aws_client(link, "ecs", REGION)

    assert ecs.meta.endpoint_url == moto_endpoint
    assert ecs.meta.region_name == REGION
    assert ecs.meta.config.retries["mode"] == "standard"
    assert ecs.meta.config.connect_timeout == 5
    assert aws_client(link, "ecs", REGION) is ecs


def test_session_name_is_primetime_and_a_short_hash_without_the_external_id(link):
    name = session_name_for(link)

    assert name.startswith("primetime-")
    assert len(name) == len("primetime-") + 12
    assert link.external_id not in name
    assert link.external_id not in repr(link)


def test_second_call_within_validity_reuses_credentials_and_expiry_assumes_again(link, monkeypatch):
    calls = _count_assume_role(monkeypatch)

    with time_machine.travel(datetime(2026, 6, 11, 18, 0, tzinfo=UTC), tick=False) as traveller:
        first = assumed_session(link, region=REGION)
        assert calls == [link.external_id]

        # Credentials last an hour: 54 minutes on, they are still good for more than 5 minutes.
        traveller.shift(timedelta(minutes=54))
        assert assumed_session(link, region=REGION) is first
        aws_client(link, "rds", REGION)
        assert len(calls) == 1

        # 56 minutes on, fewer than 5 minutes are left: assume the role again.
        traveller.shift(timedelta(minutes=2))
        renewed = assumed_session(link, region=REGION)
        assert renewed is not first
        assert len(calls) == 2
        assert renewed.get_credentials().access_key != first.get_credentials().access_key


def test_concurrent_first_calls_assume_the_role_once(link, monkeypatch):
    calls = _count_assume_role(monkeypatch)
    sessions = []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        sessions.append(assumed_session(link, region=REGION))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 1
    assert len({id(session) for session in sessions}) == 1


def test_links_are_cached_apart_and_can_be_forgotten(link, monkeypatch):
    calls = _count_assume_role(monkeypatch)
    other = RoleLink(role_arn="arn:aws:iam::210987654321:role/PrimetimeAccess", external_id="primetime-other")

    assumed_session(link, region=REGION)
    assumed_session(other, region=REGION)
    assumed_session(link, region="eu-west-1")  # another region, same credentials
    assert len(calls) == 2

    forget_link(link)
    assumed_session(link, region=REGION)
    assert len(calls) == 3


def test_credentials_aws_calls_expired_are_dropped_so_the_retry_assumes_the_role_again(link, monkeypatch):
    """Stubber: AWS answers ExpiredToken although the cache still trusts the credentials (clock skew, revoked
    session); the next client assumes the role again instead of failing until the cached expiry."""
    import pytest
    from botocore.stub import Stubber

    from cloud.errors import translate_errors
    from cloud.exceptions import TransientCloudError

    calls = _count_assume_role(monkeypatch)
    rds = aws_client(link, "rds", REGION)
    with Stubber(rds) as stub:
        stub.add_client_error("describe_db_instances", service_error_code="ExpiredToken", http_status_code=400)
        with pytest.raises(TransientCloudError), translate_errors("rds"):
            rds.describe_db_instances()
    assert len(calls) == 1
    aws_client(link, "rds", REGION)
    assert len(calls) == 2
