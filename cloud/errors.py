"""Turn botocore's exceptions into the project's, with a message that names the service and the operation.

Use ``translate_errors`` around every call (``cloud.client`` re-exports it):

    with translate_errors("rds"):
        client.describe_db_instances()

or as a decorator, ``@translate_errors("rds")``.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from types import TracebackType

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from cloud.exceptions import (
    AccessDenied,
    CloudError,
    InvalidRequest,
    NotFound,
    PermanentCloudError,
    TransientCloudError,
)

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure"},
)
# These say the credentials themselves are wrong, not the role's policy.
UNRECOGNIZED_CREDENTIALS_CODES = frozenset({"UnrecognizedClientException", "InvalidClientTokenId"})
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        # Cached credentials ran out under us: the next attempt assumes the role again.
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
INVALID_REQUEST_CODES = frozenset({"ValidationError", "ValidationException", "MalformedPolicyDocument"})

# IAM action prefixes differ from botocore's service names for a few services.
IAM_PREFIX = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "service-quotas": "servicequotas",
    "resourcegroupstaggingapi": "tag",
}


def _is_not_found(code: str) -> bool:
    return "NotFound" in code or code.startswith("NoSuch")


def _what(service: str, operation: str) -> str:
    return " ".join(part for part in (service, operation) if part) or "an AWS call"


def _from_client_error(error: ClientError, service: str, operation: str) -> CloudError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    aws_message = str(details.get("Message", "")).strip() or "no details given"
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    operation = getattr(error, "operation_name", "") or operation
    what = _what(service, operation)

    if code in ACCESS_DENIED_CODES:
        action = f"{IAM_PREFIX.get(service, service)}:{operation}" if service and operation else what
        return AccessDenied(
            f"The linked AWS role is not allowed to call {action} ({code}): "
            "update the role with Primetime's current policy (see the CloudFormation template) and try again.",
            code=code,
        )
    if code in UNRECOGNIZED_CREDENTIALS_CODES:
        return AccessDenied(
            f"AWS did not recognize the credentials used for {what} ({code}): "
            "link the AWS account again, or check the portal's own AWS credentials.",
            code=code,
        )
    if code in TRANSIENT_CODES or status >= 500:
        return TransientCloudError(
            f"AWS could not answer {what} right now ({code or status}); it will be retried.", code=code
        )
    if _is_not_found(code):
        return NotFound(
            f"AWS found nothing for {what} ({code}: {aws_message}); check the identifier or remove it from the stack.",
            code=code,
        )
    if code in INVALID_REQUEST_CODES or code.startswith("InvalidParameter"):
        return InvalidRequest(f"AWS rejected the parameters of {what} ({code}: {aws_message}).", code=code)
    return PermanentCloudError(f"AWS refused {what} ({code}: {aws_message}).", code=code)


def translate_error(error: BaseException, *, service: str = "", operation: str = "") -> CloudError | None:
    """Return the project's exception for a botocore exception, or None when it is not one of botocore's."""
    what = _what(service, operation)
    if isinstance(error, ClientError):
        return _from_client_error(error, service, operation)
    if isinstance(error, BotoConnectionError | HTTPClientError):
        # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, a connection closed mid-answer.
        return TransientCloudError(f"Could not reach AWS for {what} ({error}); it will be retried.")
    if isinstance(error, NoCredentialsError):
        return PermanentCloudError(
            "The portal has no AWS credentials of its own: set them in the environment or give the host a role."
        )
    if isinstance(error, ParamValidationError):
        return InvalidRequest(f"Primetime built an invalid request for {what}: {error}")
    if isinstance(error, BotoCoreError) and not isinstance(error, AssertionError):
        # Stubber's assertion failures stay as they are, so a test shows what it expected.
        return PermanentCloudError(f"AWS call {what} failed: {error}")
    return None


# Lower-case: it reads as a function at call sites, like contextlib.suppress.
class translate_errors(ContextDecorator):
    """Re-raise botocore exceptions as the project's; use as ``with translate_errors("rds"):`` or a decorator."""

    def __init__(self, service: str = "", operation: str = "") -> None:
        self.service = service
        self.operation = operation

    def __enter__(self) -> translate_errors:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if exc is None or isinstance(exc, CloudError):
            return False
        translated = translate_error(exc, service=self.service, operation=self.operation)
        if translated is None:
            return False
        raise translated from exc
