"""The portal's Celery app with a slow, counting e-mail backend, for the Redis restart scenario.

Start it as ``celery -A tests.faults.slow_mail_worker worker``: it runs the real ``notifications.send_email``
task, but each send takes ``FAULTS_MAIL_SECONDS`` and appends the subject to ``FAULTS_MAIL_LOG`` (one line per
e-mail actually sent), so the test sees tasks running when it restarts the broker and counts every effect.
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from portal.celery import app

settings.EMAIL_BACKEND = "tests.faults.slow_mail_worker.SlowCountingBackend"

__all__ = ["SlowCountingBackend", "app"]


class SlowCountingBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            time.sleep(float(os.environ.get("FAULTS_MAIL_SECONDS", "0.2")))
            with open(os.environ["FAULTS_MAIL_LOG"], "a") as log:  # one short append per e-mail: atomic
                log.write(f"{message.subject}\n")
        return len(email_messages)
