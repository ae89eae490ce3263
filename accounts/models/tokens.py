from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "pt"  # noqa: S105 - a public prefix, not a secret


def hash_token_secret(raw_key: str) -> str:
    # The key has 256 bits of entropy, so a fast hash is enough; what matters
    # is that a database leak does not leak usable keys.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API key for scripts; only its hash is stored, the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=80, help_text=_("What the key is for, e.g. “CI deploy script”."))
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_key})"

    @property
    def masked_key(self) -> str:
        return f"{TOKEN_PREFIX}_{self.key_id}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """Return a fresh (raw key, key id, key hash)."""
        key_id = secrets.token_hex(6)
        raw_key = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        return raw_key, key_id, hash_token_secret(raw_key)

    def matches(self, raw_key: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_token_secret(raw_key))
