from __future__ import annotations


class Conflict(Exception):
    """The request is valid but clashes with the current state (HTTP 409); ``extra`` goes into the answer."""

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra
