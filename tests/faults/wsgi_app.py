"""The portal's WSGI application for fault scenarios run under gunicorn, as in production but without
collectstatic's manifest (as in the rest of the suite, see tests/conftest.py)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings

settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
