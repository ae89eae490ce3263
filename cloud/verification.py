"""Check a role a client linked: the portal can assume it with the external id, and nobody can without one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from cloud.client import RoleLink, assume_role, credentials_client, session_name_for, translate_errors
from cloud.exceptions import PermanentCloudError, RoleNotAssumable, TransientCloudError

ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")


@dataclass(frozen=True)
class VerificationResult:
    """Say whether the link is usable, which AWS account it reaches, and what to do when it is not."""

    ok: bool
    account_id: str | None
    message: str


def _refused(message: str, account_id: str | None = None) -> VerificationResult:
    return VerificationResult(ok=False, account_id=account_id, message=message)


def simulated_account() -> bool:
    """Tell whether the portal talks to the local AWS simulator (never real AWS: loopback endpoints only)."""
    endpoint = settings.AWS_ENDPOINT_URL or ""
    host = urlsplit(endpoint).hostname or ""
    return bool(settings.AWS_SIMULATED_ACCOUNT and host in {"127.0.0.1", "localhost", "::1"})


def verify_role(link: RoleLink) -> VerificationResult:
    """Assume the role with and without the external id; accept it only if the first works and the second fails.

    A malformed ARN is refused before any call. TransientCloudError (throttling,
    timeouts) propagates: the caller retries later.
    """
    match = ROLE_ARN.match(link.role_arn)
    if match is None:
        return _refused(
            f"{link.role_arn!r} is not an IAM role ARN: it looks like arn:aws:iam::123456789012:role/PrimetimeAccess "
            "(copy it from the CloudFormation stack's RoleArn output)."
        )
    if not link.external_id:
        return _refused("This link has no external id; create the role again from the portal's template.")

    try:
        credentials = assume_role(
            link.role_arn, external_id=link.external_id, session_name=session_name_for(link, purpose="verify")
        )
    except TransientCloudError:
        raise
    except PermanentCloudError as error:
        return _refused(error.message)

    with translate_errors("sts", "GetCallerIdentity"):
        account_id = credentials_client(credentials, "sts").get_caller_identity()["Account"]
    if account_id != match["account"]:
        return _refused(
            f"The role answered from account {account_id}, not {match['account']} as its ARN says; link it again.",
            account_id,
        )

    if simulated_account():
        return VerificationResult(
            ok=True,
            account_id=account_id,
            message=(
                f"Primetime can read simulated account {account_id} with this role. The simulator does not enforce "
                "trust-policy conditions, so the check that the role refuses calls without the external id was skipped."
            ),
        )

    # The confused-deputy probe: the same call without the external id must be refused.
    try:
        assume_role(link.role_arn, external_id=None, session_name=session_name_for(link, purpose="probe"))
    except RoleNotAssumable:
        return VerificationResult(
            ok=True,
            account_id=account_id,
            message=f"Primetime can read account {account_id} with this role, and only with the external id.",
        )
    except PermanentCloudError as error:
        return _refused(f"Could not confirm that the role requires the external id: {error.message}", account_id)
    return _refused(
        "The role can be assumed without the external id, which leaves it open to the confused-deputy problem: "
        "add the sts:ExternalId condition to its trust policy (the portal's template has it) and verify again.",
        account_id,
    )
