"""AWS tasks, on the ``aws`` queue: transient errors retry with backoff; permanent ones say what to do."""

from __future__ import annotations

from celery import shared_task
from django.utils.translation import gettext as _

from cloud import services
from cloud.exceptions import PermanentCloudError, TransientCloudError

MAX_RETRIES = 5


def _retry_or_give_up(task, error: TransientCloudError, account_id: int) -> None:
    """Retry with exponential backoff and jitter; after the last try, say so on the account instead of spinning."""
    if task.request.retries >= MAX_RETRIES:
        services.account_verify_failed(
            account_id=account_id,
            message=_("AWS did not answer after several tries (%(why)s). Try again in a few minutes.")
            % {"why": error.message},
        )
        return
    raise task.retry(exc=error, countdown=min(300, 5 * 2**task.request.retries), max_retries=MAX_RETRIES)


@shared_task(bind=True, name="aws.verify_account", soft_time_limit=60, time_limit=90)
def verify_account_task(self, account_id: int) -> None:
    """Verify a linked role (safe to run twice: it only reads and overwrites the verdict)."""
    try:
        services.account_verify(account_id=account_id)
    except TransientCloudError as error:
        _retry_or_give_up(self, error, account_id)
    except PermanentCloudError as error:
        services.account_verify_failed(account_id=account_id, message=error.message)


@shared_task(bind=True, name="aws.discover_resources", soft_time_limit=240, time_limit=300)
def discover_resources_task(self, account_id: int) -> None:
    """List the account's resources of every kind (read-only, safe to repeat)."""
    try:
        services.account_discover(account_id=account_id)
    except TransientCloudError as error:
        _retry_or_give_up(self, error, account_id)
    except PermanentCloudError as error:
        services.account_verify_failed(account_id=account_id, message=error.message)


@shared_task(
    name="aws.refresh_stack_resources",
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=(TransientCloudError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def refresh_stack_resources_task(stack_id: int) -> int:
    """Read each attached resource's capacity again (read-only, safe to repeat)."""
    return services.stack_resources_refresh(stack_id=stack_id)
