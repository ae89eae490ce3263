from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "status"
    verbose_name = _("Status pages")

    def ready(self) -> None:
        # Celery discovers only tasks.py; publishing lives in its own module.
        from status import tasks_publish  # noqa: F401
