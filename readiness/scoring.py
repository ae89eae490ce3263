"""From findings to a verdict and a score."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.models import Outcome, ReadinessRun, Severity

WEIGHTS = {Severity.CRITICAL: 3, Severity.MAJOR: 2, Severity.MINOR: 1}
CREDIT = {Outcome.PASS: 1.0, Outcome.WARN: 0.5, Outcome.FAIL: 0.0, Outcome.ERROR: 0.0}


def verdict_and_score(findings: Iterable[tuple[str, str]]) -> tuple[str, int]:
    """Rate (severity, outcome) pairs: a failed critical check means not ready; any other doubt, at risk.

    A check that could not run counts as a doubt, never as a pass.
    """
    findings = list(findings)
    if not findings:
        return ReadinessRun.Verdict.AT_RISK, 0
    total = sum(WEIGHTS[Severity(severity)] for severity, _outcome in findings)
    earned = sum(WEIGHTS[Severity(severity)] * CREDIT[Outcome(outcome)] for severity, outcome in findings)
    score = round(100 * earned / total)
    if any(severity == Severity.CRITICAL and outcome == Outcome.FAIL for severity, outcome in findings):
        return ReadinessRun.Verdict.NOT_READY, score
    if any(outcome != Outcome.PASS for _severity, outcome in findings):
        return ReadinessRun.Verdict.AT_RISK, score
    return ReadinessRun.Verdict.READY, score
