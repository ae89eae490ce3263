"""Subscriptions: e-mail double opt-in, one-click unsubscribe, per-component filtering, signed webhooks against a
local receiver, retries up to a dead letter, the SSRF guard, rate limits, and no cookie on any public answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from portal import netguard
from status import notify, subscriptions, views_subscriptions
from status.models import Component, Delivery, Incident, IncidentUpdate, StatusPage, Subscriber
from status.tasks_notify import deliver_notification_task

ROOT = "/status/lumiere"


# --- Fixtures and helpers ------------------------------------------------------------


@pytest.fixture
def page(personas) -> StatusPage:
    page = StatusPage.objects.create(organization=personas.organization, name="Maison Lumière", slug="lumiere")
    Component.objects.create(page=page, name="Website", position=1)
    Component.objects.create(page=page, name="API", position=2)
    return page


@pytest.fixture
def client() -> Client:
    # Public forms post without a CSRF token (they set no cookie to carry one).
    return Client(REMOTE_ADDR="203.0.113.7", enforce_csrf_checks=True)


@pytest.fixture
def loopback(settings):
    settings.NETGUARD_ALLOW_LOOPBACK = True


@pytest.fixture
def eager_retries():
    """Let eager tasks run their retries in turn (a propagated Retry would stop at the first)."""
    from portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def component(page: StatusPage, name: str) -> Component:
    return Component.objects.get(page=page, name=name)


def subscribed(page: StatusPage, email: str, components: list[Component] = ()) -> Subscriber:
    subscriber = Subscriber.objects.create(
        page=page, channel=Subscriber.Channel.EMAIL, email=email, confirmed_at=timezone.now()
    )
    subscriber.components.set(components)
    return subscriber


def hooked(page: StatusPage, endpoint: str, components: list[Component] = ()) -> Subscriber:
    subscriber = Subscriber.objects.create(
        page=page, channel=Subscriber.Channel.WEBHOOK, endpoint=endpoint, secret="s3cr3t" * 8,
        confirmed_at=timezone.now(),
    )  # fmt: skip
    subscriber.components.set(components)
    return subscriber


def incident_on(page: StatusPage, components: list[Component], *, draft: bool = False) -> IncidentUpdate:
    incident = Incident.objects.create(page=page, name="Checkout errors", status="investigating", impact="major",
                                       is_draft=draft)  # fmt: skip
    incident.components.set(components)
    return IncidentUpdate.objects.create(
        incident=incident, status="investigating", body="We are looking into it.", body_html="<p>Looking.</p>",
        affected_components=[
            {"code": c.public_id, "name": c.name, "old_status": "operational", "new_status": "major_outage"}
            for c in components
        ],
    )  # fmt: skip


def link_in(message, action: str) -> str:
    match = re.search(rf"http://\S+/status/lumiere(/subscriptions/[^/\s]+/{action}/)", message.body)
    assert match, message.body
    return ROOT + match.group(1)


def subscribe(client, callbacks, **data):
    with callbacks(execute=True):
        return client.post(f"{ROOT}/subscribe/", data)


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint on 127.0.0.1 that records each request and answers the statuses it is given."""

    daemon_threads = True

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses = statuses or [204]
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Receiver

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        statuses = self.server.statuses
        status = statuses[min(len(self.server.requests), len(statuses)) - 1]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


# --- E-mail: double opt-in ---------------------------------------------------------------


def test_subscribing_sends_a_confirmation_and_only_the_post_confirms(page, client, django_capture_on_commit_callbacks):
    api = component(page, "API")
    response = subscribe(client, django_capture_on_commit_callbacks, email="Viewer@Example.com",
                         components=[api.public_id])  # fmt: skip
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get(page=page, email="viewer@example.com")
    assert not subscriber.is_active
    [message] = mail.outbox
    assert message.to == ["viewer@example.com"]
    assert "Maison Lumière" in message.subject
    confirm = link_in(message, "confirm")

    shown = client.get(confirm)
    assert shown.status_code == 200
    assert 'method="post"' in shown.content.decode()
    subscriber.refresh_from_db()
    assert not subscriber.is_active, "opening the link (a mail scanner) must not confirm"

    confirmed = client.post(confirm)
    assert confirmed.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.is_active
    assert list(subscriber.components.all()) == [api]


def test_resubscribing_answers_the_same_and_changes_nothing_before_the_confirmation(
    page, client, django_capture_on_commit_callbacks
):
    website, api = component(page, "Website"), component(page, "API")
    subscribed(page, "fan@example.com", [website])
    known = subscribe(client, django_capture_on_commit_callbacks, email="fan@example.com", components=[api.public_id])
    unknown = subscribe(client, django_capture_on_commit_callbacks, email="new@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.content.decode().replace("fan@", "X@") == unknown.content.decode().replace("new@", "X@")
    subscriber = Subscriber.objects.get(email="fan@example.com")
    assert list(subscriber.components.all()) == [website]
    message = next(message for message in mail.outbox if message.to == ["fan@example.com"])
    client.post(link_in(message, "confirm"))
    assert list(subscriber.components.all()) == [api]


def test_an_expired_confirmation_link_is_refused(page, client, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, email="late@example.com")
    confirm = link_in(mail.outbox[0], "confirm")
    with time_machine.travel(timezone.now() + subscriptions.CONFIRM_MAX_AGE + timedelta(minutes=1)):
        response = client.post(confirm)
        as_json = client.post(confirm, HTTP_ACCEPT="application/json")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert as_json.status_code == 410
    assert "token" in as_json.json()
    assert not Subscriber.objects.get(email="late@example.com").is_active


def test_a_tampered_link_is_refused(page, client, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, email="viewer@example.com")
    message = mail.outbox[0]
    confirm, unsubscribe = link_in(message, "confirm"), link_in(message, "unsubscribe")
    token = confirm.split("/")[-3]
    forged = confirm.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.post(forged).status_code == 400
    # An unsubscribe link is signed for unsubscribing only.
    assert client.post(unsubscribe.replace("/unsubscribe/", "/confirm/")).status_code == 400
    assert not Subscriber.objects.get(email="viewer@example.com").is_active


def test_form_and_json_errors_name_the_field(page, client):
    form = client.post(f"{ROOT}/subscribe/", {"email": "not-an-address"})
    assert form.status_code == 400
    assert 'id="email-errors"' in form.content.decode()
    response = client.post(f"{ROOT}/subscribe/", {"email": "a@example.com", "components": ["nope"]},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    assert set(response.json()) == {"components"}
    both = client.post(f"{ROOT}/subscribe/", {"email": "a@example.com", "endpoint": "https://example.com/h"},
                       content_type="application/json")  # fmt: skip
    assert set(both.json()) == {"endpoint"}
    assert client.post(f"{ROOT}/subscribe/", "[1]", content_type="application/json").json().keys() == {"body"}
    assert not Subscriber.objects.exists()


def test_a_private_page_takes_no_subscription(page, client):
    StatusPage.objects.filter(pk=page.pk).update(visibility=StatusPage.Visibility.MEMBERS)
    assert client.get(f"{ROOT}/subscribe/").status_code == 404
    assert client.post(f"{ROOT}/subscribe/", {"email": "a@example.com"}).status_code == 404


def test_the_page_on_its_custom_domain_resolves_without_a_slug(page):
    request = RequestFactory().get("/subscribe/?lang=fr")
    request.status_page_slug = page.slug
    response = views_subscriptions.subscribe(request)
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr">' in response.content.decode()


# --- Unsubscribe ---------------------------------------------------------------------------


def test_unsubscribe_get_asks_and_post_unsubscribes(page, client):
    subscriber = subscribed(page, "fan@example.com")
    url = subscriptions.unsubscribe_url(subscriber=subscriber).removeprefix("http://127.0.0.1:8000")
    shown = client.get(url)
    assert shown.status_code == 200
    assert 'method="post"' in shown.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.is_active
    # What a mail client sends for List-Unsubscribe-Post (RFC 8058).
    done = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None


def test_every_notification_email_has_a_one_click_unsubscribe(page):
    subscriber = subscribed(page, "fan@example.com")
    notify.notify_incident_update(incident_on(page, []).pk)
    [message] = mail.outbox
    link = subscriptions.unsubscribe_url(subscriber=subscriber)
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body
    assert "We are looking into it." in message.body


# --- Who gets what ---------------------------------------------------------------------------


def test_per_component_subscribers_only_get_updates_touching_their_components(page):
    website, api = component(page, "Website"), component(page, "API")
    subscribed(page, "everything@example.com")
    subscribed(page, "api@example.com", [api])
    subscribed(page, "website@example.com", [website])
    Subscriber.objects.create(page=page, channel=Subscriber.Channel.EMAIL, email="pending@example.com")
    Subscriber.objects.create(page=page, channel=Subscriber.Channel.EMAIL, email="gone@example.com",
                              confirmed_at=timezone.now(), unsubscribed_at=timezone.now())  # fmt: skip
    notify.notify_incident_update(incident_on(page, [api]).pk)
    assert sorted(message.to[0] for message in mail.outbox) == ["api@example.com", "everything@example.com"]


def test_drafts_and_silent_updates_never_notify(page):
    subscribed(page, "fan@example.com")
    notify.notify_incident_update(incident_on(page, [], draft=True).pk)
    silent = incident_on(page, [])
    IncidentUpdate.objects.filter(pk=silent.pk).update(deliver_notifications=False)
    notify.notify_incident_update(silent.pk)
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_maintenance_reminders_go_to_email_subscribers(page, loopback):
    api = component(page, "API")
    subscribed(page, "fan@example.com", [api])
    hook = hooked(page, "http://127.0.0.1:9/hook")
    start = timezone.now() + timedelta(minutes=50)
    maintenance = Incident.objects.create(
        page=page, kind=Incident.Kind.MAINTENANCE, name="Database upgrade", status="scheduled",
        impact="maintenance", scheduled_for=start, scheduled_until=start + timedelta(hours=1),
    )  # fmt: skip
    maintenance.components.set([api])
    notify.notify_maintenance_reminder(maintenance.pk)
    notify.notify_maintenance_reminder(maintenance.pk)  # beat's claim failed open: still one e-mail
    [message] = mail.outbox
    assert "Database upgrade" in message.subject
    assert not hook.deliveries.exists()


def test_a_notification_fanned_out_twice_is_delivered_once(page):
    subscribed(page, "fan@example.com")
    update = incident_on(page, [])
    notify.notify_incident_update(update.pk)
    notify.notify_incident_update(update.pk)
    assert Delivery.objects.count() == 1
    assert len(mail.outbox) == 1


def test_an_incident_posted_through_the_services_reaches_subscribers(
    page, personas, django_capture_on_commit_callbacks
):
    from status import services

    subscribed(page, "fan@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_create(page=page, by=personas.engineer, name="Slow pages", body="Looking into it.")
    [message] = mail.outbox
    assert "Slow pages" in message.subject
    assert Delivery.objects.get().status == Delivery.Status.SENT


# --- Webhooks ---------------------------------------------------------------------------


def test_a_webhook_subscription_shows_its_secret_once_and_its_signature_verifies(page, client, loopback):
    api = component(page, "API")
    with Receiver() as receiver:
        created = client.post(f"{ROOT}/subscribe/", {"endpoint": receiver.url, "components": [api.public_id]},
                              content_type="application/json")  # fmt: skip
        assert created.status_code == 201
        secret = created.json()["secret"]
        assert len(secret) == 64
        notify.notify_incident_update(incident_on(page, [api]).pk)
        [(path, headers, body)] = receiver.requests
    assert path == "/hook"
    timestamp = headers["x-primetime-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-primetime-signature"], f"sha256={expected}")
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    payload = json.loads(body)
    assert set(payload) == {"meta", "page", "incident"}
    assert set(payload["meta"]) == {"unsubscribe", "documentation"}
    assert payload["page"]["id"] == page.public_id
    assert payload["page"]["status_indicator"] in {"none", "minor", "major", "critical", "maintenance"}
    assert payload["incident"]["name"] == "Checkout errors"
    assert payload["incident"]["incident_updates"][0]["body"] == "We are looking into it."
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 1


def test_a_component_update_reaches_the_webhooks_of_that_component(page, loopback):
    website, api = component(page, "Website"), component(page, "API")
    with Receiver() as receiver:
        hooked(page, receiver.url, [api])
        hooked(page, receiver.url.replace("/hook", "/other"), [website])
        subscribed(page, "fan@example.com")  # e-mail subscribers get no component_update
        Component.objects.filter(pk=api.pk).update(status="partial_outage")
        notify.notify_component_update(api.pk, "operational", "partial_outage")
        [(path, headers, body)] = receiver.requests
    payload = json.loads(body)
    assert path == "/hook"
    assert headers["x-primetime-event"] == "component.update"
    assert set(payload) == {"meta", "page", "component_update", "component"}
    change = payload["component_update"]
    assert set(change) == {"created_at", "new_status", "old_status", "id", "component_id"}
    assert (change["old_status"], change["new_status"], change["component_id"]) == (
        "operational", "partial_outage", api.public_id,
    )  # fmt: skip
    assert payload["component"]["id"] == api.public_id
    assert mail.outbox == []


def test_a_delivery_task_run_again_does_not_resend(page, loopback):
    with Receiver() as receiver:
        hooked(page, receiver.url)
        notify.notify_incident_update(incident_on(page, []).pk)
        delivery = Delivery.objects.get()
        assert deliver_notification_task.delay(delivery.pk).get() == Delivery.Status.SENT
        assert len(receiver.requests) == 1


def test_retries_stop_after_the_last_try_and_leave_a_dead_letter(page, loopback, eager_retries):
    with Receiver(statuses=[500]) as receiver:
        hooked(page, receiver.url)
        notify.notify_incident_update(incident_on(page, []).pk)
        tries = len(receiver.requests)
    delivery = Delivery.objects.get()
    assert tries == notify.MAX_ATTEMPTS == 5
    assert delivery.status == Delivery.Status.DEAD
    assert delivery.attempts == 5
    assert "500" in delivery.last_error
    deliveries = {headers["x-primetime-delivery"] for _, headers, _ in receiver.requests}
    assert len(deliveries) == 1, "every retry names the same delivery"


def test_a_retry_that_succeeds_marks_the_delivery_sent(page, loopback, eager_retries):
    with Receiver(statuses=[503, 503, 200]) as receiver:
        hooked(page, receiver.url)
        notify.notify_incident_update(incident_on(page, []).pk)
        assert len(receiver.requests) == 3
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SENT, 3, "")


def test_backoff_doubles_with_jitter_and_a_cap():
    from status.tasks_notify import BACKOFF_BASE, BACKOFF_MAX, backoff

    assert BACKOFF_BASE * 0.8 <= backoff(1) <= BACKOFF_BASE * 1.2
    assert BACKOFF_BASE * 8 * 0.8 <= backoff(4) <= BACKOFF_BASE * 8 * 1.2
    assert backoff(30) <= BACKOFF_MAX * 1.2


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://127.0.0.1/hook",
        "https://metadata.google.internal/hook",
        "http://hooks.example.com/plain-http",
        "https://user:pass@hooks.example.com/hook",
    ],
)
def test_a_private_or_unsafe_endpoint_is_refused_at_subscribe(page, client, endpoint):
    response = client.post(f"{ROOT}/subscribe/", {"endpoint": endpoint}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"endpoint"}
    assert not Subscriber.objects.exists()


def test_an_endpoint_resolving_to_a_private_address_is_refused_at_delivery(page, monkeypatch):
    monkeypatch.setattr(netguard, "lookup", lambda host, port: ["10.1.2.3"])
    hooked(page, "https://hooks.example.com/status")
    notify.notify_incident_update(incident_on(page, []).pk)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.DEAD
    assert delivery.attempts == 1, "a refused address is not retried"
    assert "10.1.2.3" in delivery.last_error


def test_unsubscribed_before_its_turn_nothing_is_sent(page, loopback):
    with Receiver() as receiver:
        subscriber = hooked(page, receiver.url)
        update = incident_on(page, [])
        [delivery_id] = notify.deliveries_for_incident_update(update_id=update.pk)
        subscriptions.subscriber_unsubscribe(subscriber=subscriber)
        deliver_notification_task.delay(delivery_id)
        assert receiver.requests == []
    assert Delivery.objects.get().status == Delivery.Status.DEAD


# --- Rate limits and cookies ---------------------------------------------------------------


def test_subscribe_requests_are_rate_limited_per_address(page, client):
    for index in range(5):
        assert client.post(f"{ROOT}/subscribe/", {"email": f"v{index}@example.com"}).status_code == 200
    limited = client.post(f"{ROOT}/subscribe/", {"email": "v6@example.com"}, HTTP_ACCEPT="application/json")
    assert limited.status_code == 429
    assert "try again in" in limited.json()["detail"]
    assert 1 <= int(limited["Retry-After"]) <= 60
    other = Client(REMOTE_ADDR="198.51.100.9", enforce_csrf_checks=True)
    assert other.post(f"{ROOT}/subscribe/", {"email": "v7@example.com"}).status_code == 200
    assert not Subscriber.objects.filter(email="v6@example.com").exists()


def test_subscribe_requests_are_rate_limited_per_page(page, monkeypatch):
    monkeypatch.setattr(subscriptions, "SUBSCRIBE_LIMITS", (subscriptions.RateLimit("page", 2, 60),))
    for index in range(2):
        Client(REMOTE_ADDR=f"198.51.100.{index}").post(f"{ROOT}/subscribe/", {"email": f"v{index}@example.com"})
    response = Client(REMOTE_ADDR="198.51.100.50").post(f"{ROOT}/subscribe/", {"email": "v@example.com"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()


def test_no_public_subscription_answer_sets_a_cookie(page, client, loopback, django_capture_on_commit_callbacks):
    subscriber = subscribed(page, "fan@example.com")
    unsubscribe = subscriptions.unsubscribe_url(subscriber=subscriber).removeprefix("http://127.0.0.1:8000")
    responses = [
        client.get(f"{ROOT}/subscribe/"),
        client.post(f"{ROOT}/subscribe/", {"email": "broken"}),
        subscribe(client, django_capture_on_commit_callbacks, email="new@example.com"),
        client.post(f"{ROOT}/subscribe/", {"endpoint": "http://127.0.0.1:9/h"}, content_type="application/json"),
    ]
    confirm = link_in(mail.outbox[0], "confirm")
    responses += [client.get(confirm), client.post(confirm), client.get(unsubscribe), client.post(unsubscribe)]
    responses += [client.post(f"{ROOT}/subscribe/", {"email": "x@example.com"}) for _ in range(3)]
    assert [response.status_code for response in responses][-1] == 429
    for response in responses:
        assert not response.cookies, response
        assert "Set-Cookie" not in response.headers
