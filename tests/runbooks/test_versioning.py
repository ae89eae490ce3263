from __future__ import annotations

import pytest
from django.urls import reverse

from runbooks import selectors, services
from runbooks.models import RunbookStep
from tests.conftest import client_for


def _edit(runbook, by, steps):
    return services.runbook_edit(runbook=runbook, by=by, title=runbook.title, phase=runbook.phase, steps=steps)


def test_editing_never_changes_what_an_old_execution_shows(personas, runbook_factory, event_factory):
    runbook = runbook_factory()
    first = runbook.current_version
    execution = services.execution_start(version=first, event=event_factory(), by=personas.engineer)

    second = _edit(runbook, personas.engineer, [{"kind": "manual_check", "title": "Only one step now"}])

    assert (first.number, second.number) == (1, 2)
    execution.refresh_from_db()
    assert execution.version == first
    assert [row.step.title for row in selectors.execution_steps(execution=execution)] == [
        "Check the cache",
        "Client agrees",
        "Run readiness",
    ]
    page = client_for(personas.engineer).get(reverse("runbook-execution", args=[execution.pk])).content.decode()
    assert "Client agrees" in page
    assert "Only one step now" not in page


def test_versions_and_steps_are_immutable(runbook_factory):
    version = runbook_factory().current_version
    version.title = "Rewritten"
    with pytest.raises(ValueError, match="append-only"):
        version.save()
    step = version.steps.first()
    with pytest.raises(ValueError, match="append-only"):
        step.delete()


def test_markdown_is_sanitized_on_save_and_render(personas, runbook_factory):
    runbook = runbook_factory(
        steps=[{"kind": "manual_check", "title": "x", "body": "<script>alert(1)</script>[a](javascript:alert(1))"}]
    )
    step = RunbookStep.objects.get(version__runbook=runbook)
    assert "<script" not in step.body_html
    assert 'href="javascript' not in step.body_html
    page = client_for(personas.engineer).get(reverse("runbook-detail", args=[runbook.pk])).content.decode()
    assert "<script>alert" not in page


def test_diff_of_two_versions(personas, runbook_factory):
    runbook = runbook_factory()
    _edit(
        runbook,
        personas.engineer,
        [
            {"kind": "manual_check", "title": "Check the cache", "body": "Hit rate above **95 %**."},
            {"kind": "confirmation", "title": "Client agrees"},
        ],
    )
    old, new = runbook.versions.get(number=1), runbook.versions.get(number=2)
    diff = selectors.version_diff(old=old, new=new)
    removed = {line.text.strip() for line in diff if line.change == "removed"}
    added = {line.text.strip() for line in diff if line.change == "added"}
    assert "Hit rate above **90 %**." in removed
    assert "Hit rate above **95 %**." in added
    assert any("Run readiness" in text for text in removed)

    page = (
        client_for(personas.engineer)
        .get(reverse("runbook-history", args=[runbook.pk]), {"from": 1, "to": 2})
        .content.decode()
    )
    assert 'data-testid="runbook-diff"' in page
    assert "Hit rate above **95 %**." in page


def test_edit_through_the_page_makes_a_new_version(personas, runbook_factory):
    runbook = runbook_factory()
    data = {
        "title": "Cache warm-up", "phase": "t_minus_1h", "resource_kind": "", "active": "on", "intro": "Why.",
        "steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000",
        "steps-0-kind": "manual_check", "steps-0-title": "Look at the graphs",
        "steps-1-kind": "automated", "steps-1-title": "Forgot the action",
    }  # fmt: skip
    client = client_for(personas.engineer)
    response = client.post(reverse("runbook-edit", args=[runbook.pk]), data)
    assert response.status_code == 400
    assert "Step 2: an automated step needs an action." in response.content.decode()
    assert runbook.versions.count() == 1

    data["steps-1-action"] = "run_readiness"
    response = client.post(reverse("runbook-edit", args=[runbook.pk]), data)
    assert response.status_code == 302
    assert runbook.versions.count() == 2
    assert runbook.current_version.author == personas.engineer
