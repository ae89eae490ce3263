from __future__ import annotations


class AppendOnly:
    """Refuse to edit or delete a row once written: timelines and audit logs are evidence.

    Mix in before ``models.Model``. Bulk queryset updates bypass this; services never use them on such tables.
    """

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only.")
