"""Scenario 11, second half: every state-changing route refuses a POST without a CSRF token.

The walk covers every pattern of the URL configuration (admin included), signed in as an engineer and as an
anonymous visitor. The only exceptions are the public status routes, deliberately csrf-exempt: they are
served without sessions, set no cookie, and their POSTs (subscribe, confirm, unsubscribe) carry their own
signed tokens or only start a confirmation.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.urlmap import Sampler, routes, seed_demo_world

PUBLIC_STATUS = "status/"


@pytest.fixture
def demo_engineer(db):
    seed_demo_world()
    from accounts.models import User

    return User.objects.get(email="nadia@provider.example")


def test_every_post_without_a_csrf_token_is_refused(demo_engineer):
    sampler = Sampler()
    guarded = [route for route in routes() if not route.route.startswith(PUBLIC_STATUS)]
    engineer = Client(enforce_csrf_checks=True)
    engineer.force_login(demo_engineer)
    personas = {"engineer": engineer, "anonymous": Client(enforce_csrf_checks=True)}
    accepted = []
    for persona, client in personas.items():
        for route in guarded:
            url = sampler.url(route)
            status = client.post(url, {"name": "x"}).status_code
            # DRF checks CSRF for session users only; without a session there is nothing to forge,
            # and the API refuses the anonymous caller itself.
            if persona == "anonymous" and route.route.startswith("api/") and status in {401, 405}:
                continue
            if status != 403:
                accepted.append(f"{persona} {status} {url}")
    total = len(guarded) * len(personas)
    print(
        f"CSRF: {total - len(accepted)}/{total} tokenless POSTs refused (403, or 401 for an anonymous API call) "
        f"over {len(guarded)} routes × 2 personas"
    )
    assert accepted == [], "\n".join(accepted)


def test_the_csrf_exempt_public_status_routes_set_no_cookie(demo_engineer):
    sampler = Sampler()
    exempt = [route for route in routes() if route.route.startswith(PUBLIC_STATUS)]
    client = Client(enforce_csrf_checks=True)
    cookies = []
    for route in exempt:
        url = sampler.url(route)
        for method in (client.get, client.post):
            response = method(url)
            if response.cookies:
                cookies.append(f"{method.__name__} {url}: {sorted(response.cookies)}")
    print(f"CSRF-exempt public status routes: {len(exempt)}, {len(cookies)} answers set a cookie")
    assert cookies == []
