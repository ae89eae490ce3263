"""The answers to an unknown address (``handler404``) and to an unhandled error (``handler500``).

An address under ``/api/`` that no route matches (``/api/v1/events/0.5/``, a typo in a client's script) answers
the API's JSON error, not the portal's HTML page: a client parsing our errors must never meet HTML (found by
schemathesis, issue 8 scenario 8).

Fault suite (issue 8, scenario 3): with PostgreSQL stopped, every portal page that reads the session or the
database raised ``OperationalError`` and answered the generic 500 page ("the error was recorded"), although
nothing is wrong with the code and the page will work again as soon as the database is back. A database that
cannot be reached now answers 503 with a clear page and ``Retry-After``; any other error keeps the 500 page.
The page is rendered without a request context: nothing in it may touch the database.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import server_error as django_server_error

DATABASE_UNREACHABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


API_PREFIX = "/api/"


@requires_csrf_token
def page_not_found(request, exception, template_name: str = "404.html"):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("Not found."), "errors": {}}, status=404)
    return django_page_not_found(request, exception, template_name)


@requires_csrf_token
def server_error(request, template_name: str = "500.html"):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNREACHABLE):
        from django.http import HttpResponse

        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    return django_server_error(request, template_name)
