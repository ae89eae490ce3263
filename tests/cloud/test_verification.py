"""verify_role accepts a role only when the external id is required.

moto's AssumeRole accepts any external id, or none, whatever the trust policy
says, so the cases that need STS to refuse are answered by botocore's Stubber
on the portal's real STS client (the real service model checks every
parameter). GetCallerIdentity still goes to the simulated account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY, Stubber

from cloud import verification
from cloud.client import RoleLink, provider_client
from cloud.exceptions import TransientCloudError
from cloud.verification import verify_role
from tests.cloud.conftest import ACCOUNT_ID

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/PrimetimeAccess"
LINK = RoleLink(role_arn=ROLE_ARN, external_id="primetime-0f3a9c")


def _credentials() -> dict:
    return {
        "Credentials": {
            "AccessKeyId": "ASIASTUBBEDKEY000001",
            "SecretAccessKey": "stubbed-secret",
            "SessionToken": "stubbed-token",
            "Expiration": datetime.now(UTC) + timedelta(hours=1),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROASTUBBED:primetime-verify",
            "Arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/PrimetimeAccess/primetime-verify",
        },
    }


def _with_external_id() -> dict:
    return {"RoleArn": ROLE_ARN, "RoleSessionName": ANY, "DurationSeconds": 3600, "ExternalId": LINK.external_id}


def _without_external_id() -> dict:
    return {"RoleArn": ROLE_ARN, "RoleSessionName": ANY, "DurationSeconds": 3600}


def test_role_that_requires_the_external_id_is_accepted():
    """Stubber: STS grants the call with the external id and refuses the one without (moto grants both)."""
    with Stubber(provider_client("sts")) as sts:
        sts.add_response("assume_role", _credentials(), _with_external_id())
        sts.add_client_error(
            "assume_role",
            service_error_code="AccessDenied",
            service_message="User is not authorized to perform: sts:AssumeRole",
            http_status_code=403,
            expected_params=_without_external_id(),
        )
        result = verify_role(LINK)
        sts.assert_no_pending_responses()

    assert result.ok
    assert result.account_id == ACCOUNT_ID
    assert "only with the external id" in result.message


def test_role_assumable_without_external_id_is_refused_as_a_confused_deputy():
    """Stubber: both AssumeRole calls succeed, as with a trust policy that lacks the sts:ExternalId condition."""
    with Stubber(provider_client("sts")) as sts:
        sts.add_response("assume_role", _credentials(), _with_external_id())
        sts.add_response("assume_role", _credentials(), _without_external_id())
        result = verify_role(LINK)

    assert not result.ok
    assert result.account_id == ACCOUNT_ID
    assert "confused-deputy" in result.message
    assert "sts:ExternalId" in result.message


def test_the_simulated_account_trusts_anyone_so_the_demo_role_is_refused(demo_stack):
    """moto end to end: its AssumeRole ignores the trust policy, which is exactly the case to refuse."""
    result = verify_role(RoleLink(role_arn=demo_stack["role_arn"], external_id=demo_stack["external_id"]))

    assert not result.ok
    assert result.account_id == ACCOUNT_ID
    assert "confused-deputy" in result.message


def test_role_that_refuses_the_portal_says_what_to_check():
    """Stubber: STS answers AccessDenied to the call with the external id."""
    with Stubber(provider_client("sts")) as sts:
        sts.add_client_error(
            "assume_role", service_error_code="AccessDenied", http_status_code=403, expected_params=_with_external_id()
        )
        result = verify_role(LINK)

    assert not result.ok
    assert result.account_id is None
    assert ACCOUNT_ID in result.message  # the provider account the trust policy must name
    assert "external id" in result.message


def test_throttled_verification_raises_for_the_caller_to_retry():
    """Stubber: STS throttles."""
    with Stubber(provider_client("sts")) as sts:
        sts.add_client_error("assume_role", service_error_code="Throttling", http_status_code=400)
        with pytest.raises(TransientCloudError):
            verify_role(LINK)


@pytest.mark.parametrize(
    "role_arn",
    [
        "PrimetimeAccess",
        "arn:aws:iam::12345:role/PrimetimeAccess",
        "arn:aws:iam::123456789012:user/deploy",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:role/",
        " arn:aws:iam::123456789012:role/PrimetimeAccess",
    ],
)
def test_malformed_arn_is_refused_before_any_call(role_arn, monkeypatch):
    def no_call(*args, **kwargs):
        raise AssertionError("verify_role called AWS for a malformed ARN")

    monkeypatch.setattr(verification, "assume_role", no_call)
    monkeypatch.setattr(verification, "credentials_client", no_call)

    result = verify_role(RoleLink(role_arn=role_arn, external_id="primetime-0f3a9c"))

    assert not result.ok
    assert result.account_id is None
    assert "arn:aws:iam::123456789012:role/PrimetimeAccess" in result.message


def test_role_with_a_path_is_well_formed():
    assert verification.ROLE_ARN.match("arn:aws:iam::123456789012:role/service-roles/primetime/PrimetimeAccess")
