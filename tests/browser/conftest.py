"""The browser fixtures live in tests/browser/fixtures.py, loaded once for the whole suite by tests/conftest.py.

``SCREENSHOTS`` and ``sign_in`` are re-exported for the tests that import them from here.
"""

from tests.browser.fixtures import SCREENSHOTS, sign_in  # noqa: F401
