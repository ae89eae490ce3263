from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StacksConfig(AppConfig):
    name = "stacks"
    verbose_name = _("Stacks")
