"""Scenario 12: production settings pass Django's deploy checks, and every page carries the security headers.

The walk goes through the URL configuration itself (tests/security/urlmap.py) as an engineer and as an
anonymous visitor, over HTTPS, with the demo world loaded so most pages answer 200. Every answer, whatever
its status, must carry HSTS, a CSP that forbids inline scripts and framing, a referrer policy and nosniff.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.portal.test_settings import PRODUCTION, _manage
from tests.security.urlmap import Route, Sampler, routes, seed_demo_world

HOST = "primetime.example.com"


def _directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed.setdefault(words[0].lower(), words[1:])
    return parsed


def header_problems(response) -> list[str]:
    """Return what is missing or weak in one answer's security headers."""
    problems = []
    hsts = response.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    if not match or int(match.group(1)) < 60 * 60 * 24 * 180:
        problems.append(f"HSTS {hsts!r}")
    policy = _directives(response.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts is None or "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts or "*" in scripts:
        problems.append(f"CSP script-src {scripts!r}")
    if policy.get("frame-ancestors") not in (["'none'"], ["'self'"]):
        problems.append(f"CSP frame-ancestors {policy.get('frame-ancestors')!r}")
    if response.get("Referrer-Policy", "") not in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}:
        problems.append(f"Referrer-Policy {response.get('Referrer-Policy')!r}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("nosniff")
    return problems


@pytest.mark.integration
def test_production_settings_pass_check_deploy_at_warning_level():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    print(f"check --deploy --fail-level WARNING: exit {result.returncode}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.fixture
def demo_world(db, settings):
    settings.ALLOWED_HOSTS = [HOST]
    seed_demo_world()
    from accounts.models import User

    return User.objects.get(email="nadia@provider.example")


def _walk(client: Client, all_routes: list[Route], sampler: Sampler) -> tuple[dict[str, list[str]], dict[int, int]]:
    problems: dict[str, list[str]] = {}
    statuses: dict[int, int] = {}
    for route in all_routes:
        url = sampler.url(route)
        response = client.get(url, secure=True, HTTP_HOST=HOST)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        found = header_problems(response)
        if found:
            problems[f"{response.status_code} {url}"] = found
    return problems, statuses


def test_every_page_carries_the_security_headers(demo_world, settings):
    settings.SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365  # the production default (DEBUG off)
    sampler = Sampler()
    all_routes = [route for route in routes() if not route.route.startswith("admin/")]
    all_routes.append(Route("admin/", "admin:index", ()))
    all_routes.append(Route("admin/login/", "admin:login", ()))
    engineer = Client()
    engineer.force_login(demo_world)
    results = {"engineer": _walk(engineer, all_routes, sampler), "anonymous": _walk(Client(), all_routes, sampler)}
    total = sum(sum(statuses.values()) for _problems, statuses in results.values())
    failing = sum(len(problems) for problems, _statuses in results.values())
    ok = sum(statuses.get(200, 0) for _problems, statuses in results.values())
    print(
        f"Security headers: {total - failing}/{total} answers complete over {len(all_routes)} routes × 2 personas "
        f"({ok} answered 200; engineer {sorted(results['engineer'][1].items())}, "
        f"anonymous {sorted(results['anonymous'][1].items())})"
    )
    missing = sorted(
        f"{persona} {url}: {found}" for persona, (problems, _s) in results.items() for url, found in problems.items()
    )
    assert missing == [], "\n".join(missing)
    # The walk reached real pages, not only 404s.
    assert results["engineer"][1].get(200, 0) >= len(all_routes) // 2


def test_swagger_ui_needs_no_inline_script(client, db):
    """The API docs run under the portal's CSP: the initialiser is a separate script file."""
    html = client.get("/api/docs/").content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert inline == []
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
