"""The errors every AWS call in the project can raise, split by what the caller should do next."""

from __future__ import annotations


class CloudError(Exception):
    """Report an AWS failure with a sentence a person can act on, and the AWS error code ("" when none)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class TransientCloudError(CloudError):
    """Signal throttling, an AWS-side 5xx, a timeout or a broken connection: retry later, with backoff."""


class PermanentCloudError(CloudError):
    """Signal a failure that the same call will hit again: mark the work failed, never retry."""


class AccessDenied(PermanentCloudError):
    """Signal that the client's role does not allow the call: the client must update the role's policy."""


class RoleNotAssumable(PermanentCloudError):
    """Signal that STS refused to let the portal assume the client's role (trust policy, external id, ARN)."""


class NotFound(PermanentCloudError):
    """Signal that the resource named in the call does not exist (any more)."""


class InvalidRequest(PermanentCloudError):
    """Signal that AWS rejected the request's parameters."""
