"""The registry of readiness checks: each has a stable id, a title, a category, a severity,
the queue it runs on, its own timeout, the targets it looks at, and a function that
returns a finding with evidence and a remediation a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from readiness.models import Outcome, Severity


@dataclass(frozen=True)
class Finding:
    outcome: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str = ""

    @classmethod
    def passed(cls, message: str, **evidence) -> Finding:
        return cls(Outcome.PASS, message, evidence)

    @classmethod
    def warn(cls, message: str, remediation: str, **evidence) -> Finding:
        return cls(Outcome.WARN, message, evidence, remediation)

    @classmethod
    def failed(cls, message: str, remediation: str, **evidence) -> Finding:
        return cls(Outcome.FAIL, message, evidence, remediation)

    @classmethod
    def error(cls, message: str, **evidence) -> Finding:
        return cls(Outcome.ERROR, message, evidence)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    category: str
    severity: str
    queue: str
    timeout: float
    targets: Callable[[Any], list[str]]
    run: Callable[[Any, str], Finding]


REGISTRY: dict[str, Check] = {}


def register(
    *,
    id: str,
    title: str,
    category: str,
    severity: str = Severity.MAJOR,
    queue: str = "probes",
    timeout: float = 30.0,
    targets: Callable[[Any], list[str]] = lambda context: [""],
):
    """Register the decorated function as a check."""

    def decorator(function: Callable[[Any, str], Finding]) -> Callable[[Any, str], Finding]:
        if id in REGISTRY:
            raise ValueError(f"Two readiness checks use the id {id!r}.")
        REGISTRY[id] = Check(
            id=id,
            title=title,
            category=category,
            severity=severity,
            queue=queue,
            timeout=timeout,
            targets=targets,
            run=function,
        )
        return function

    return decorator


def checks() -> list[Check]:
    """Return every registered check (importing the check modules registers them)."""
    import readiness.checks  # noqa: F401 - registers the checks

    return list(REGISTRY.values())
