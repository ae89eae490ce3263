"""Headless Chromium fixtures of the browser tests, shared with the security suite."""

from __future__ import annotations

from tests.browser.conftest import chromium, page  # noqa: F401 - pytest fixtures
