"""The AWS link and a stack's cloud resources, through their pages: the role and its template, who may link,
verification and discovery against the simulated account, attaching, refreshing and removing resources.

Tasks run eagerly in unit tests; a request's on-commit enqueues are run by django_capture_on_commit_callbacks.
Tests that only read the account take ``demo_stack``; the one that changes it seeds an account of its own.
"""

from __future__ import annotations

import html
import json
import re

import pytest
import yaml
from django.urls import reverse

from cloud import services
from cloud.client import provider_client
from cloud.models import CloudAccount, StackResource
from cloud.simulation import DEMO_EXTERNAL_ID, seed_demo_account
from tests.cloud.conftest import ACCOUNT_ID, REGION
from tests.conftest import client_for

SLUG = "maison-lumiere"
SHOP_KINDS = [
    "autoscaling_group",
    "load_balancer",
    "rds_instance",
    "elasticache_replication_group",
    "cloudfront_distribution",
    "dynamodb_table",
]


def account_url() -> str:
    return reverse("cloud-account", args=[SLUG])


def resources_url(stack) -> str:
    return reverse("stack-resources", args=[SLUG, stack.pk])


def link_form(role_arn: str) -> dict:
    return {"role_arn": role_arn, "regions": [REGION], "tag_key": "primetime:stack"}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


class _CloudFormationLoader(yaml.SafeLoader):
    """Read CloudFormation's short-form functions (!Ref, !If…) as plain values."""


_CloudFormationLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else loader.construct_scalar(node)
    ),
)


@pytest.fixture
def demo_account(personas) -> CloudAccount:
    """The organization's link before a role is pasted, with the external id the seeded demo role trusts."""
    return CloudAccount.objects.create(organization=personas.organization, external_id=DEMO_EXTERNAL_ID)


def linked_and_discovered(account: CloudAccount, seeded: dict) -> CloudAccount:
    """Leave the link as verification and discovery would: verified, with the account's resources read."""
    CloudAccount.objects.filter(pk=account.pk).update(
        role_arn=seeded["role_arn"], status=CloudAccount.Status.VERIFIED, aws_account_id=ACCOUNT_ID
    )
    return services.account_discover(account_id=account.pk)


# --- The account page ---


def test_owner_sees_the_external_id_the_trust_policy_and_downloads_the_template(personas):
    response = client_for(personas.owner).get(account_url())

    assert response.status_code == 200
    account = CloudAccount.objects.get(organization=personas.organization)
    assert re.fullmatch(r"primetime-[0-9a-f]{32}", account.external_id)
    text = page_text(response)
    assert f'<code data-testid="external-id">{account.external_id}</code>' in text
    trust = json.loads(re.search(r'<pre class="code">(.*?)</pre>', text, re.DOTALL).group(1))
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": account.external_id}}
    assert "Save and verify the role" in text

    download = client_for(personas.owner).get(reverse("cloud-template", args=[SLUG]))

    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/x-yaml")
    assert download["Content-Disposition"] == 'attachment; filename="primetime-access-role.yaml"'
    template = yaml.load(download.content.decode(), Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader
    role = template["Resources"]["PrimetimeAccessRole"]["Properties"]
    condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"sts:ExternalId": account.external_id}}


def test_member_sees_the_page_but_may_not_link_a_role(personas, demo_account):
    member = client_for(personas.member)

    page = member.get(account_url())
    response = member.post(account_url(), link_form(f"arn:aws:iam::{ACCOUNT_ID}:role/PrimetimeAccess"))

    assert page.status_code == 200
    assert DEMO_EXTERNAL_ID in page_text(page)
    assert "Save and verify the role" not in page_text(page)
    assert response.status_code == 403
    demo_account.refresh_from_db()
    assert (demo_account.role_arn, demo_account.status) == ("", CloudAccount.Status.NOT_LINKED)


@pytest.mark.parametrize(
    "role_arn",
    [
        "PrimetimeAccess",
        "arn:aws:iam::1234:role/PrimetimeAccess",
        f"arn:aws:iam::{ACCOUNT_ID}:user/camille",
        f"arn:aws:iam::{ACCOUNT_ID}:role/",
    ],
)
def test_a_malformed_role_arn_is_a_field_error_and_saves_nothing(personas, demo_account, role_arn):
    response = client_for(personas.owner).post(account_url(), link_form(role_arn))

    assert response.status_code == 400
    assert "role_arn" in response.context["form"].errors
    assert "arn:aws:iam::123456789012:role/PrimetimeAccess" in response.context["form"].errors["role_arn"][0]
    demo_account.refresh_from_db()
    assert (demo_account.role_arn, demo_account.status) == ("", CloudAccount.Status.NOT_LINKED)


def test_linking_the_seeded_role_verifies_it_and_discovers_the_stack(
    personas, demo_account, demo_stack, settings, django_capture_on_commit_callbacks
):
    settings.AWS_SIMULATED_ACCOUNT = True
    owner = client_for(personas.owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(account_url(), link_form(demo_stack["role_arn"]))

    assert response.status_code == 302
    demo_account.refresh_from_db()
    assert demo_account.status == CloudAccount.Status.VERIFIED
    assert demo_account.aws_account_id == ACCOUNT_ID
    assert demo_account.verified_at is not None
    assert "simulated account" in demo_account.status_message
    discovered = {item["identifier"]: item for item in demo_account.discovered}
    for kind in SHOP_KINDS:
        assert discovered[demo_stack[kind]]["kind"] == kind
    assert demo_account.discovery_errors == []
    page = page_text(owner.get(account_url()))
    assert "Verified" in page
    assert f"account {ACCOUNT_ID}" in page
    for name in ["lumiere-shop-web", "lumiere-shop-alb", "lumiere-shop-db", "lumiere-shop-cache"]:
        assert f"<strong>{name}</strong>" in page
    assert "lumiere-shop-sessions" in page
    assert "primetime:stack=shop" in page


def test_a_role_that_works_without_the_external_id_is_refused(
    personas, demo_account, demo_stack, settings, django_capture_on_commit_callbacks
):
    # Not the simulator's shortcut: the confused-deputy probe runs, and moto grants AssumeRole without the id.
    settings.AWS_SIMULATED_ACCOUNT = False
    owner = client_for(personas.owner)

    with django_capture_on_commit_callbacks(execute=True):
        owner.post(account_url(), link_form(demo_stack["role_arn"]))

    demo_account.refresh_from_db()
    assert demo_account.status == CloudAccount.Status.REFUSED
    assert "confused-deputy" in demo_account.status_message
    assert demo_account.discovered == []
    page = page_text(owner.get(account_url()))
    assert "Refused" in page
    assert demo_account.status_message in page


# --- The stack's resources page ---


def test_owner_attaches_by_tag_states_throughput_refreshes_and_removes(
    personas, stack, demo_account, django_capture_on_commit_callbacks
):
    # This test changes the account (the group's desired capacity): it seeds one of its own.
    seeded = seed_demo_account(region=REGION)
    linked_and_discovered(demo_account, seeded)
    owner = client_for(personas.owner)
    empty = page_text(owner.get(resources_url(stack)))
    assert "No cloud resource attached yet." in empty
    assert "lumiere-shop-web" in empty  # offered from the discovery

    attached = owner.post(resources_url(stack), {"action": "attach_tag", "tag_value": "shop"}, follow=True)

    rows = {row.kind: row for row in StackResource.objects.filter(stack=stack)}
    assert sorted(rows) == sorted([*SHOP_KINDS, "target_group"])
    assert "7 resources attached." in page_text(attached)
    group = rows["autoscaling_group"]
    assert group.identifier == seeded["autoscaling_group"]
    assert (group.capacity["desired"], group.capacity["max"]) == (2, 6)
    assert "desired <strong>2</strong>" in page_text(attached)
    assert "instance class <strong>db.t3.medium</strong>" in page_text(attached)

    saved = owner.post(
        resources_url(stack), {"action": "unit_rps", "resource": group.pk, "unit_rps": "250"}, follow=True
    )

    group.refresh_from_db()
    assert group.unit_rps == 250
    assert "Throughput saved." in page_text(saved)

    provider_client("autoscaling", REGION).update_auto_scaling_group(
        AutoScalingGroupName="lumiere-shop-web", DesiredCapacity=3
    )
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(resources_url(stack), {"action": "refresh"})

    group.refresh_from_db()
    assert group.capacity["desired"] == 3
    assert group.unit_rps == 250  # what the client stated is kept
    assert "desired <strong>3</strong>" in page_text(owner.get(resources_url(stack)))

    table = rows["dynamodb_table"]
    removed = owner.post(resources_url(stack), {"action": "remove", "resource": table.pk}, follow=True)

    assert not StackResource.objects.filter(pk=table.pk).exists()
    assert "lumiere-shop-sessions removed from the stack." in page_text(removed)
    assert StackResource.objects.filter(stack=stack).count() == 6


def test_member_may_not_attach_resources(personas, stack, demo_account, demo_stack):
    linked_and_discovered(demo_account, demo_stack)
    member = client_for(personas.member)

    page = member.get(resources_url(stack))
    by_tag = member.post(resources_url(stack), {"action": "attach_tag", "tag_value": "shop"})
    by_identifier = member.post(resources_url(stack), {"action": "attach", "identifier": demo_stack["rds_instance"]})
    # A tag no resource carries: still a refusal, not a hint about what was discovered.
    unknown_tag = member.post(resources_url(stack), {"action": "attach_tag", "tag_value": "blog"})

    assert page.status_code == 200
    assert "Attach resources" not in page_text(page)
    assert (by_tag.status_code, by_identifier.status_code, unknown_tag.status_code) == (403, 403, 403)
    assert not StackResource.objects.filter(stack=stack).exists()


def test_attaching_what_the_last_discovery_did_not_find_attaches_nothing(personas, stack, demo_account, demo_stack):
    linked_and_discovered(demo_account, demo_stack)
    missing = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:db:lumiere-shop-replica"

    response = client_for(personas.owner).post(
        resources_url(stack),
        {"action": "attach", "identifier": [demo_stack["rds_instance"], missing]},
        follow=True,
    )

    assert response.status_code == 200
    assert f"Not found in the last discovery: {missing}" in page_text(response)
    assert not StackResource.objects.filter(stack=stack).exists()


def test_outsider_gets_404_on_both_pages(personas, stack):
    outsider = client_for(personas.outsider)

    assert outsider.get(account_url()).status_code == 404
    assert outsider.post(account_url(), link_form(f"arn:aws:iam::{ACCOUNT_ID}:role/Intruder")).status_code == 404
    assert outsider.get(resources_url(stack)).status_code == 404
    assert outsider.post(resources_url(stack), {"action": "attach_tag", "tag_value": "shop"}).status_code == 404
    assert not CloudAccount.objects.filter(organization=personas.organization).exists()


def test_verification_that_never_gets_an_answer_says_so_instead_of_spinning(personas, monkeypatch):
    from cloud import services as cloud_services
    from cloud.exceptions import TransientCloudError
    from cloud.models import CloudAccount
    from cloud.tasks import MAX_RETRIES, verify_account_task

    account = cloud_services.account_for(organization=personas.organization)
    CloudAccount.objects.filter(pk=account.pk).update(status=CloudAccount.Status.VERIFYING)

    def throttled(**kwargs):
        raise TransientCloudError("sts AssumeRole was throttled", code="Throttling")

    monkeypatch.setattr(cloud_services, "account_verify", throttled)
    verify_account_task.apply(args=[account.pk], retries=MAX_RETRIES)
    account.refresh_from_db()
    assert account.status == CloudAccount.Status.ERROR
    assert "AWS did not answer after several tries" in account.status_message
