"""Load the demo client and provider engineer for a local run; safe to run again."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.models import Membership, Organization, User

DEMO_PASSWORD = "primetime-demo"  # noqa: S105 - local demo accounts only, refused with DEBUG off
DEMO_PEOPLE = [
    ("camille@maison-lumiere.example", "Camille Durand", Membership.Role.OWNER),
    ("hugo@maison-lumiere.example", "Hugo Martin", Membership.Role.MEMBER),
]
DEMO_ENGINEER = ("nadia@provider.example", "Nadia Benali")
OTHER_CLIENT_OWNER = ("lea@velo-vert.example", "Léa Moreau")


class Command(BaseCommand):
    help = "Create the demo organizations, their people and a provider engineer (local runs only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even when DEBUG is off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo accounts with DEBUG off; pass --force if you mean it.")
        with transaction.atomic():
            engineer = self._user(*DEMO_ENGINEER)
            services.engineer_grant(user=engineer)
            lumiere, _ = Organization.objects.get_or_create(
                slug="maison-lumiere",
                defaults={
                    "name": "Maison Lumière",
                    "timezone": "Europe/Paris",
                    "contact_email": "tech@maison-lumiere.example",
                },
            )
            for email, name, role in DEMO_PEOPLE:
                Membership.objects.get_or_create(
                    user=self._user(email, name), organization=lumiere, defaults={"role": role}
                )
            velo, _ = Organization.objects.get_or_create(
                slug="velo-vert",
                defaults={"name": "Vélo Vert", "timezone": "Europe/Paris", "contact_email": "ops@velo-vert.example"},
            )
            Membership.objects.get_or_create(
                user=self._user(*OTHER_CLIENT_OWNER), organization=velo, defaults={"role": Membership.Role.OWNER}
            )
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Sign in with password “{DEMO_PASSWORD}” as:"))
        self.stdout.write(f"  client owner   {DEMO_PEOPLE[0][0]}  (Maison Lumière)")
        self.stdout.write(f"  client member  {DEMO_PEOPLE[1][0]}  (Maison Lumière)")
        self.stdout.write(f"  engineer       {DEMO_ENGINEER[0]}  (provider, sees every client)")

    def _user(self, email: str, full_name: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
        return user
