from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils import timezone

from events import selectors
from events.calendar import air_windows_ics, user_from_calendar_token


def calendar_feed(request, token: str):
    """Serve an engineer's air windows to any calendar app; the signed URL is the credential."""
    user = user_from_calendar_token(token)
    if user is None:
        raise Http404
    now = timezone.now()
    body = air_windows_ics(list(selectors.calendar_events(user=user, now=now)), now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="primetime-air-windows.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
