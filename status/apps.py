from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "status"
    verbose_name = _("Status pages")

    def ready(self) -> None:
        # Celery discovers only tasks.py (the probes); publishing and notifications live in their own modules.
        from status import tasks_notify, tasks_publish  # noqa: F401
