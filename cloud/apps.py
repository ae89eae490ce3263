from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CloudConfig(AppConfig):
    name = "cloud"
    verbose_name = _("AWS accounts and resources")
