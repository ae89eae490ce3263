from __future__ import annotations

import pytest
from django.urls import reverse

from runbooks import services
from tests.conftest import client_for
from tests.tenancy_matrix import make_runbook_execution


def test_client_sees_only_its_own_events_executions(personas):
    own = make_runbook_execution(personas.organization)
    foreign = make_runbook_execution(personas.other_organization)
    client = client_for(personas.member)

    listing = client.get(reverse("runbook-execution-list", args=["maison-lumiere"]))
    assert listing.status_code == 200
    assert reverse("runbook-execution-detail", args=["maison-lumiere", own.pk]) in listing.content.decode()
    assert reverse("runbook-execution-detail", args=["maison-lumiere", foreign.pk]) not in listing.content.decode()
    assert client.get(reverse("runbook-execution-detail", args=["maison-lumiere", own.pk])).status_code == 200
    assert client.get(reverse("runbook-execution-detail", args=["maison-lumiere", foreign.pk])).status_code == 404
    assert client.get(reverse("runbook-execution-detail", args=["velo-vert", foreign.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["owner", "member", "outsider"])
def test_runbook_pages_are_for_engineers_only(personas, on_air, persona):
    client = client_for(personas.by_name(persona))
    execution = make_runbook_execution(personas.organization)
    step = execution.version.steps.first()
    gets = [
        reverse("runbook-list"),
        reverse("runbook-create"),
        reverse("runbook-detail", args=[on_air.pk]),
        reverse("runbook-edit", args=[on_air.pk]),
        reverse("runbook-history", args=[on_air.pk]),
        reverse("runbook-execution", args=[execution.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    posts = [
        (reverse("runbook-edit", args=[on_air.pk]), {"title": "Taken over", "phase": "on_air"}),
        (reverse("runbook-start", args=[on_air.pk]), {"event": execution.event_id}),
        (reverse("runbook-execution-step", args=[execution.pk, step.pk, "run"]), {}),
        (reverse("runbook-execution-handover", args=[execution.pk]), {"assignee": personas.owner.pk}),
        (reverse("runbook-execution-close", args=[execution.pk, "abandoned"]), {"note": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert on_air.versions.count() == 1
    assert execution.entries.count() == 0


def test_anonymous_is_sent_to_sign_in(personas, on_air):
    response = client_for(None).get(reverse("runbook-list"))
    assert response.status_code == 302


def test_services_refuse_non_engineers(personas, on_air, event_factory):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.runbook_edit(runbook=on_air, by=personas.owner, title="x", phase="on_air", steps=[])
    with pytest.raises(PermissionDenied):
        services.execution_start(version=on_air.current_version, event=event_factory(), by=personas.owner)
