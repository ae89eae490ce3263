"""Nightly fault scenarios (the slow variants) are skipped unless asked for.

Run them with ``.venv/bin/pytest -m nightly tests/faults -s`` (or ``NIGHTLY=1 .venv/bin/pytest tests/faults -s``).
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NIGHTLY") == "1" or "nightly" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="nightly fault scenario: run with `pytest -m nightly` or NIGHTLY=1")
    for item in items:
        if item.get_closest_marker("nightly"):
            item.add_marker(skip)
