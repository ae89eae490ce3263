from __future__ import annotations

import smtplib
import socket

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage


@shared_task(
    name="notifications.send_email",
    autoretry_for=(smtplib.SMTPException, socket.timeout, ConnectionError),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=30,
    time_limit=45,
)
def send_email_task(*, subject: str, body: str, to: list[str]) -> None:
    """Send one rendered e-mail; the backend's EMAIL_TIMEOUT bounds the SMTP call."""
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to).send()
