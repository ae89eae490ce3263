from __future__ import annotations

import base64
import re
import zlib
from datetime import timedelta

import pytest

from events.models import MediaEvent
from live.models import ObservedMinute
from tests.tenancy_matrix import make_event

# Minutes from air start → (requests, 5xx, missing). Minute 4 of the 12-minute window is missing.
SEEDED = {-2: (2_400, 0, False), 0: (6_000, 6, False), 1: (42_000, 84, False), 2: (36_000, 36, False)}
SEEDED |= {3: (30_000, 0, False), 4: (None, None, True), 5: (24_000, 2_400, False)}


@pytest.fixture
def aired_event(personas, stack):
    """A completed event of the client with observed minutes seeded around its air start."""
    event = make_event(
        personas.organization, stack=stack, days_ahead=-1, status=MediaEvent.Status.COMPLETED, title="Capital June"
    )
    for offset, (requests, errors, missing) in SEEDED.items():
        ObservedMinute.objects.create(
            event=event,
            minute=event.air_start + timedelta(minutes=offset),
            requests=requests,
            errors_5xx=errors,
            missing=missing,
        )
    return event


def pdf_text(data: bytes) -> str:
    """Return the decoded content streams of a reportlab PDF (ASCII85 then Flate), joined."""
    texts = []
    for stream, body in re.findall(rb"<<([^<>]*?)>>\s*stream\r?\n(.*?)endstream", data, re.DOTALL):
        body = body.strip()
        if b"ASCII85Decode" in stream:
            body = base64.a85decode(body.removeprefix(b"<~").removesuffix(b"~>"))
        if b"FlateDecode" in stream:
            body = zlib.decompress(body)
        texts.append(body.decode("latin-1"))
    return "\n".join(texts)
