"""Load the demo client and provider engineer for a local run; safe to run again."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import Membership, Organization, User
from events import services as event_services
from events.forecasting import event_forecast_refresh
from events.models import MediaEvent, TimelineEntry
from stacks.models import Stack

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
            self._media_events(lumiere, owner=self._user(*DEMO_PEOPLE[0][:2]), engineer=engineer)
        if settings.AWS_ENDPOINT_URL:
            self._simulated_aws(lumiere, engineer=engineer)
        from status.demo import seed_status_pages

        segment = MediaEvent.objects.filter(organization=lumiere, air_start__gt=timezone.now()).first()
        seed_status_pages(lumiere, engineer=engineer, media_event=segment)
        from live.demo import demo_live_seed

        live = demo_live_seed(lumiere, owner=self._user(*DEMO_PEOPLE[0][:2]), engineer=engineer)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Sign in with password “{DEMO_PASSWORD}” as:"))
        self.stdout.write(f"  client owner   {DEMO_PEOPLE[0][0]}  (Maison Lumière)")
        self.stdout.write(f"  client member  {DEMO_PEOPLE[1][0]}  (Maison Lumière)")
        self.stdout.write(f"  engineer       {DEMO_ENGINEER[0]}  (provider, sees every client)")
        self.stdout.write("Maison Lumière has a TV segment on M6 in four days, waiting in the engineers' queue.")
        self.stdout.write(
            f"On air now: “{live.rehearsal.title}”, led by Nadia; live room "
            f"{settings.SITE_URL}/o/{lumiere.slug}/events/{live.rehearsal.pk}/live/ "
            f"({live.minutes_observed} minutes observed so far). Last month's report is published."
        )
        self.stdout.write(
            f"Public status pages: {settings.SITE_URL}/status/{lumiere.slug}/ and {settings.SITE_URL}/status/primetime/"
        )

    def _media_events(self, organization: Organization, *, owner: User, engineer: User) -> None:
        """Give the demo client a stack, a TV segment booked a few days ahead and one that aired last month."""
        stack, _ = Stack.objects.get_or_create(
            organization=organization,
            name="Shop website",
            defaults={
                "landing_url": "https://www.maison-lumiere.example/",
                "key_urls": [
                    "https://www.maison-lumiere.example/lampes",
                    "https://www.maison-lumiere.example/panier",
                ],
                "health_url": "https://api.maison-lumiere.example/health",
                "cdn_hostname": "d1lumiere.cloudfront.net",
                "normal_peak_rps": 60,
            },
        )
        if organization.media_events.exists():
            return
        paris = ZoneInfo(organization.timezone)
        today = timezone.localdate(timezone=paris)
        upcoming_start = datetime.combine(today + timedelta(days=4), time(21, 10), tzinfo=paris)
        event_services.event_create(
            organization=organization,
            by=owner,
            data={
                "stack": stack,
                "title": "Capital on M6: the lamp that saves energy",
                "kind": MediaEvent.Kind.TV_SEGMENT,
                "channel": "M6",
                "programme": "Capital",
                "air_start": upcoming_start,
                "air_end": upcoming_start + timedelta(minutes=14),
                "expected_audience": 2_921_000,
                "audience_share": 12.5,
                "notes": "The founder shows the lamp on set; the address is on screen for about 20 seconds.",
            },
            rebroadcasts=[{"air_start": upcoming_start + timedelta(days=6, hours=-9), "expected_audience": None}],
            submit=True,
        )
        # An event that already aired: written as history, since booking refuses the past.
        past_start = datetime.combine(today - timedelta(days=30), time(20, 50), tzinfo=paris)
        past = MediaEvent.objects.create(
            organization=organization,
            stack=stack,
            title="Radio interview on France Inter",
            kind=MediaEvent.Kind.RADIO,
            channel="France Inter",
            programme="La Tête au carré",
            air_start=past_start,
            air_end=past_start + timedelta(minutes=20),
            expected_audience=900_000,
            landing_urls=stack.landing_urls,
            status=MediaEvent.Status.REVIEWED,
            assignee=engineer,
            created_by=owner,
        )
        event_forecast_refresh(event=past)
        for from_status, to_status, actor in [
            ("draft", "submitted", owner),
            ("submitted", "accepted", engineer),
            ("accepted", "preparing", engineer),
            ("preparing", "ready", engineer),
            ("ready", "on_air", None),
            ("on_air", "completed", None),
            ("completed", "reviewed", engineer),
        ]:
            TimelineEntry.objects.create(
                event=past,
                actor=actor,
                kind=TimelineEntry.Kind.TRANSITION,
                from_status=from_status,
                to_status=to_status,
            )

    def _simulated_aws(self, organization: Organization, *, engineer: User) -> None:
        """Seed the simulated AWS account with the demo stack, link it, and attach its resources."""
        from cloud import services as cloud_services
        from cloud.models import CloudAccount, StackResource
        from cloud.simulation import seed_demo_account

        account = cloud_services.account_for(organization=organization)
        seeded = seed_demo_account(
            region=settings.AWS_DEFAULT_REGION,
            tag_key=account.tag_key,
            tag_value="shop",
            external_id=account.external_id,
        )
        if account.status != CloudAccount.Status.VERIFIED:
            account.role_arn = seeded["role_arn"]
            account.save(update_fields=["role_arn"])
            cloud_services.account_verify(account_id=account.pk)
            cloud_services.account_discover(account_id=account.pk)
        stack = Stack.objects.get(organization=organization, name="Shop website")
        if not stack.resources.exists():
            cloud_services.stack_resources_attach_by_tag(stack=stack, tag_value="shop", by=engineer)
            # What one unit sustains, as a load test would have measured it: the database's figure makes
            # the plan recommend read replicas, which an engineer approves on their own.
            for kind, unit_rps in (
                (StackResource.Kind.AUTOSCALING_GROUP, 250),
                (StackResource.Kind.RDS_INSTANCE, 2500),
                (StackResource.Kind.ELASTICACHE, 5000),
            ):
                stack.resources.filter(kind=kind).update(unit_rps=unit_rps)
        self.stdout.write(f"Simulated AWS account linked ({seeded['role_arn']}); its resources are on the stack.")

    def _user(self, email: str, full_name: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
        return user
