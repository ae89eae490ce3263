from __future__ import annotations

import pytest

from tests.tenancy_matrix import make_event, make_stack


@pytest.fixture
def stack(personas):
    return make_stack(personas.organization)


@pytest.fixture
def event_factory(personas, stack):
    def _make(**fields):
        fields.setdefault("stack", stack)
        return make_event(personas.organization, **fields)

    return _make
