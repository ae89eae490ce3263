"""Outgoing e-mail: rendered in the request, sent by a Celery worker after commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def email_send(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    language: str | None = None,
) -> None:
    """Render ``<template>_subject.txt`` and ``<template>_body.txt`` and send them once the transaction commits.

    Web requests never wait on the mail server: the worker sends, with a
    timeout and retries. Nothing is sent if the surrounding transaction rolls back.
    """
    from notifications.tasks import send_email_task

    with translation.override(language or translation.get_language()):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    recipients = list(to)
    transaction.on_commit(lambda: send_email_task.delay(subject=subject, body=body, to=recipients))
