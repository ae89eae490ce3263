"""Importing this package registers every readiness check."""

from readiness.checks import aws, capacity, http  # noqa: F401
