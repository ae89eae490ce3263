"""Personas shared by every test: an owner and a member of one client, an
outsider from another client, a provider engineer, and an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Membership, Organization, User

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Personas:
    organization: Organization
    other_organization: Organization
    owner: User
    member: User
    outsider: User
    engineer: User

    def by_name(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


def make_user(email: str, full_name: str = "") -> User:
    return User.objects.create_user(email=email, password=PASSWORD, full_name=full_name)


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    # Unit tests run tasks in-process; tests about the worker opt out (see tests/portal/test_celery_worker.py).
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True, scope="session")
def _private_broker_folder(tmp_path_factory):
    """Keep the file-system broker of the tests apart from a developer's running instance."""
    from portal.celery import app

    options = app.conf.broker_transport_options or {}
    if "data_folder_in" in options:
        folder = tmp_path_factory.mktemp("broker")
        (folder / "queue").mkdir()
        (folder / "control").mkdir()
        app.conf.broker_transport_options = {
            **options,
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
        }


@pytest.fixture(autouse=True)
def _fresh_cache():
    # API throttling and sign-in lockouts count in the cache; each test starts at zero.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _status_snapshots(settings):
    """Give each test an empty snapshot store: Redis in CI (emptied), otherwise its own memory store."""
    import uuid

    from django.core.cache import caches

    from status import snapshots

    if not settings.CACHES["status"]["BACKEND"].endswith("RedisCache"):
        settings.CACHES = {
            **settings.CACHES,
            "status": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
        }
    caches["status"].clear()
    settings.STATUS_SNAPSHOT_RECHECK = 0
    snapshots.clear_memory()
    yield
    snapshots.clear_memory()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Argon2 is deliberately slow; tests/accounts/test_sign_in.py checks the real setting.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render without collectstatic's manifest; production keeps it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def personas(db) -> Personas:
    organization = Organization.objects.create(
        name="Maison Lumière", slug="maison-lumiere", timezone="Europe/Paris", contact_email="tech@lumiere.example"
    )
    other = Organization.objects.create(
        name="Vélo Vert", slug="velo-vert", timezone="Europe/Paris", contact_email="ops@velo.example"
    )
    owner = make_user("owner@lumiere.example", "Camille Owner")
    member = make_user("member@lumiere.example", "Hugo Member")
    outsider = make_user("owner@velo.example", "Léa Outsider")
    engineer = make_user("engineer@provider.example", "Nadia Engineer")
    services.engineer_grant(user=engineer)
    Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    Membership.objects.create(user=member, organization=organization, role=Membership.Role.MEMBER)
    Membership.objects.create(user=outsider, organization=other, role=Membership.Role.OWNER)
    return Personas(
        organization=organization,
        other_organization=other,
        owner=owner,
        member=member,
        outsider=outsider,
        engineer=engineer,
    )


PERSONA_NAMES = ["owner", "member", "outsider", "engineer", "anonymous"]


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def stack(personas):
    from tests.tenancy_matrix import make_stack

    return make_stack(personas.organization)


@pytest.fixture
def event_factory(personas, stack):
    """Make media events of the client organization (submitted, ten days ahead, unless told otherwise)."""
    from tests.tenancy_matrix import make_event

    def _make(**fields):
        fields.setdefault("stack", stack)
        return make_event(personas.organization, **fields)

    return _make


# Headless Chromium for tests/browser and tests/security: defined once, so one Playwright runs per session.
from tests.browser.fixtures import chromium, page, screenshot  # noqa: E402, F401
