from __future__ import annotations

import pytest

from readiness.registry import REGISTRY, Check, checks


@pytest.fixture
def only_checks():
    """Replace the registry with the given checks for one test (the real ones come back after)."""
    checks()  # make sure the real checks are registered before saving them
    saved = dict(REGISTRY)

    def install(*replacements: Check) -> None:
        REGISTRY.clear()
        REGISTRY.update({check.id: check for check in replacements})

    yield install
    REGISTRY.clear()
    REGISTRY.update(saved)


@pytest.fixture
def executed(django_capture_on_commit_callbacks):
    """Run the on-commit enqueues (tasks are eager in unit tests) as a committed request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
