"""Importing this package registers every readiness check."""

from readiness.checks import capacity  # noqa: F401
