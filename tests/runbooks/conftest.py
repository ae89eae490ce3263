from __future__ import annotations

import pytest

from runbooks import services
from runbooks.models import Runbook, RunbookStep

Kind = RunbookStep.Kind


@pytest.fixture(autouse=True)
def _starter_library(db):
    """Load what the data migration loads (the suite runs with --no-migrations)."""
    from runbooks.library import starter_library_load

    starter_library_load()


@pytest.fixture
def on_air(db) -> Runbook:
    return Runbook.objects.get(title="On-air watch")


@pytest.fixture
def runbook_factory(personas):
    def _make(steps=None, **fields):
        fields.setdefault("title", "Cache warm-up")
        fields.setdefault("phase", "t_minus_1h")
        steps = steps or [
            {"kind": Kind.MANUAL_CHECK, "title": "Check the cache", "body": "Hit rate above **90 %**."},
            {"kind": Kind.CONFIRMATION, "title": "Client agrees"},
            {"kind": Kind.AUTOMATED, "title": "Run readiness", "action": RunbookStep.Action.RUN_READINESS},
        ]
        return services.runbook_create(by=personas.engineer, steps=steps, **fields)

    return _make
