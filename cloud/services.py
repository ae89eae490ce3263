"""Link an organization's AWS account, read its resources, and attach them to stacks."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from cloud.models import CloudAccount, StackResource
from cloud.resources import Resource
from stacks.models import Stack


def account_for(*, organization: Organization) -> CloudAccount:
    """Return the organization's AWS link, creating it (and its external id) on first sight."""
    account, _created = CloudAccount.objects.get_or_create(organization=organization)
    return account


def account_link(
    *, account: CloudAccount, role_arn: str, regions: Iterable[str], tag_key: str, by: User
) -> CloudAccount:
    """Save the role the client created and verify it in the background (AssumeRole with, then without, the id)."""
    if not account.organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers link the AWS account."))
    account.role_arn = role_arn.strip()
    account.regions = sorted({region.strip() for region in regions if region.strip()}) or account.regions
    account.tag_key = tag_key.strip() or account.tag_key
    account.status = CloudAccount.Status.VERIFYING
    account.status_message = _("Checking the role…")
    account.full_clean()
    with transaction.atomic():
        account.save()
        transaction.on_commit(lambda: _enqueue_verify(account.pk))
    return account


def _enqueue_verify(account_id: int) -> None:
    from cloud.tasks import verify_account_task

    verify_account_task.delay(account_id)


def account_verify(*, account_id: int) -> CloudAccount:
    """Verify the link now; a transient AWS error propagates so that the task retries."""
    from cloud.verification import verify_role

    account = CloudAccount.objects.get(pk=account_id)
    result = verify_role(account.role_link())
    account.status = CloudAccount.Status.VERIFIED if result.ok else CloudAccount.Status.REFUSED
    account.status_message = result.message
    account.aws_account_id = result.account_id or ""
    account.verified_at = timezone.now() if result.ok else None
    account.save(update_fields=["status", "status_message", "aws_account_id", "verified_at", "updated_at"])
    if result.ok:
        transaction.on_commit(lambda: _enqueue_discover(account.pk))
    return account


def account_verify_failed(*, account_id: int, message: str) -> None:
    CloudAccount.objects.filter(pk=account_id).update(status=CloudAccount.Status.ERROR, status_message=message)


def account_discover_request(*, account: CloudAccount, by: User) -> None:
    if not account.organization.is_accessible_by(by):
        raise PermissionDenied
    if not account.is_usable():
        raise ValidationError(_("Link and verify the AWS account first."))
    transaction.on_commit(lambda: _enqueue_discover(account.pk))


def _enqueue_discover(account_id: int) -> None:
    from cloud.tasks import discover_resources_task

    discover_resources_task.delay(account_id)


def account_discover(*, account_id: int) -> CloudAccount:
    """Read every resource of every kind in the account's regions; a kind that fails is noted, not fatal."""
    from cloud.inventory import discover

    account = CloudAccount.objects.get(pk=account_id)
    link = account.role_link()
    resources, errors = [], []
    for index, region in enumerate(account.regions):
        found = discover(link, region, include_global=index == 0)
        resources.extend(resource.to_json() for resource in found.resources)
        errors.extend({**error.to_json(), "region": region} for error in found.errors)
    account.discovered = resources
    account.discovery_errors = errors
    account.discovered_at = timezone.now()
    account.quotas = {region: _quotas_read(link, region) for region in account.regions}
    account.save(update_fields=["discovered", "discovery_errors", "discovered_at", "quotas", "updated_at"])
    return account


def _quotas_read(link, region: str) -> dict:
    """Read the EC2 on-demand vCPU quota and what runs now; a refusal is kept as the reason, not raised."""
    from cloud.adapters.quotas import ec2_on_demand_vcpu_quota, ec2_running_standard_vcpus
    from cloud.exceptions import CloudError

    read_at = timezone.now().isoformat()
    try:
        running = ec2_running_standard_vcpus(link, region)
    except CloudError as error:
        running = None
        running_error = error.message
    else:
        running_error = ""
    try:
        quota = ec2_on_demand_vcpu_quota(link, region)
    except CloudError as error:
        return {"read_at": read_at, "error": error.message, "running_vcpus": running}
    return {"read_at": read_at, "ec2_vcpus": quota, "running_vcpus": running, "running_error": running_error}


def discovered_resources(account: CloudAccount) -> list[Resource]:
    return [Resource.from_json(data) for data in account.discovered]


def stack_resources_attach(*, stack: Stack, identifiers: Iterable[str], by: User) -> list[StackResource]:
    """Attach discovered resources (by identifier) to a stack; attaching twice changes nothing."""
    organization = stack.organization
    if not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers change a stack's resources."))
    account = account_for(organization=organization)
    wanted = set(identifiers)
    found = {resource.identifier: resource for resource in discovered_resources(account)}
    unknown = sorted(wanted - set(found))
    if unknown:
        raise ValidationError(
            {"identifiers": _("Not found in the last discovery: %(ids)s") % {"ids": ", ".join(unknown)}}
        )
    now = timezone.now()
    attached = []
    with transaction.atomic():
        for identifier in sorted(wanted):
            resource = found[identifier]
            row, _created = StackResource.objects.update_or_create(
                stack=stack,
                kind=str(resource.kind),
                identifier=resource.identifier,
                defaults={
                    "name": resource.name,
                    "region": resource.region,
                    "capacity": resource.capacity,
                    "details": resource.details,
                    "tags": resource.tags,
                    "refreshed_at": now,
                },
            )
            attached.append(row)
    return attached


def stack_resources_attach_by_tag(*, stack: Stack, tag_value: str, by: User) -> list[StackResource]:
    """Attach every discovered resource whose tag (the account's tag key) has this value."""
    if not stack.organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers change a stack's resources."))
    account = account_for(organization=stack.organization)
    identifiers = [
        resource.identifier
        for resource in discovered_resources(account)
        if resource.tags.get(account.tag_key) == tag_value.strip()
    ]
    if not identifiers:
        raise ValidationError(
            {
                "tag_value": _("No discovered resource has the tag %(key)s=%(value)s.")
                % {"key": account.tag_key, "value": tag_value}
            }
        )
    return stack_resources_attach(stack=stack, identifiers=identifiers, by=by)


def stack_resource_update(*, resource: StackResource, unit_rps: int | None, by: User) -> StackResource:
    if not resource.stack.organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers change a stack's resources."))
    resource.unit_rps = unit_rps
    resource.full_clean()
    resource.save(update_fields=["unit_rps"])
    return resource


def stack_resource_remove(*, resource: StackResource, by: User) -> None:
    if not resource.stack.organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners and engineers change a stack's resources."))
    resource.delete()


def stack_resources_refresh_request(*, stack: Stack, by: User) -> None:
    if not stack.organization.is_accessible_by(by):
        raise PermissionDenied
    from cloud.tasks import refresh_stack_resources_task

    transaction.on_commit(lambda: refresh_stack_resources_task.delay(stack.pk))


def stack_resources_refresh(*, stack_id: int) -> int:
    """Read each attached resource again and keep its capacity now; return how many were read."""
    from cloud.exceptions import NotFound
    from cloud.inventory import refresh

    stack = Stack.objects.select_related("organization").get(pk=stack_id)
    account = account_for(organization=stack.organization)
    if not account.is_usable():
        return 0
    link = account.role_link()
    count = 0
    for row in StackResource.objects.filter(stack=stack):
        current = Resource.from_json(
            {"kind": row.kind, "identifier": row.identifier, "name": row.name, "region": row.region}
        )
        try:
            fresh = refresh(link, current)
        except NotFound:
            row.details = {**row.details, "missing": True}
            row.save(update_fields=["details"])
            continue
        row.capacity, row.details, row.tags = fresh.capacity, fresh.details, fresh.tags
        row.refreshed_at = timezone.now()
        row.save(update_fields=["capacity", "details", "tags", "refreshed_at"])
        count += 1
    return count
