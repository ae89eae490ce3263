"""Text fields that take text only, and slugs that are looked up only when they could exist.

DRF's text fields turn a number into a string: ``{"name": 0}`` created a token named "0", where the schema says
a string and the client almost certainly sent the wrong field (found by schemathesis, issue 8 scenario 8). These
refuse anything but a JSON string with the field's own "Not a valid string" message, and measure the length the
client sent (DRF measured it after trimming the ends, so " " + 80 characters passed a maximum of 80). API
serializers import their text fields and ``ModelSerializer`` from here.
"""

from __future__ import annotations

from django.db import models
from rest_framework import serializers


class _TextOnly:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            serializers.CharField.fail(self, "invalid")
        # The length the client sent, before DRF trims the ends: the schema's maxLength is about what is sent.
        if self.max_length is not None and len(data) > self.max_length:
            serializers.CharField.fail(self, "max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class CharField(_TextOnly, serializers.CharField):
    pass


class EmailField(_TextOnly, serializers.EmailField):
    pass


class SlugField(_TextOnly, serializers.SlugField):
    pass


class URLField(_TextOnly, serializers.URLField):
    pass


class SlugRelatedField(serializers.SlugRelatedField):
    """A related object named by a slug; a NUL character is refused before the lookup.

    PostgreSQL cannot compare a text with a NUL character in it: the lookup raised and the API answered 500
    (found by schemathesis, issue 8 scenario 8).
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value="\\x00")
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.EmailField: EmailField,
        models.SlugField: SlugField,
        models.URLField: URLField,
    }
