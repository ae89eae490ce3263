"""Scenario 10: an XSS corpus in every Markdown and free-text field shown to someone else runs nowhere.

The demo world is loaded, then the corpus is written through the services into incident updates, runbook
intros, step titles and bodies, live room notes, event titles and notes, organization names and the report
summary. Every GET page of the URL configuration is then read as an engineer, an owner and an anonymous
visitor and parsed for anything a browser could run; the pages that show these fields are also opened in
headless Chromium with the CSP bypassed (so escaping is proven on its own), where the payloads would set
``window.__xss`` or open a dialog.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.security.urlmap import ORG, Sampler, routes, seed_demo_world

CORPUS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=window.__xss=1></svg>",
    '<iframe src="javascript:window.__xss=1"></iframe>',
    "[click](javascript:window.__xss=1)",
    "[click](JaVaScRiPt:window.__xss=1)",
    "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    '<a href="javascript:window.__xss=1">x</a>',
    '<div style="background:url(javascript:window.__xss=1)">x</div>',
    '![x](https://evil.example/x.png" onerror="window.__xss=1)',
    '<a href="https://ok.example/" onclick="window.__xss=1">ok</a>',
    '[ok](https://ok.example/ "title" onmouseover=window.__xss=1)',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '"><script>window.__xss=1</script>',
    "'><img src=x onerror=window.__xss=1>",
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    "{{ 7|add:7 }}{% now 'Y' %}",
    "<base href=https://evil.example/>",
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    "<form action=javascript:window.__xss=1><button>go</button></form>",
    "<details open ontoggle=window.__xss=1>",
]
MARKDOWN = "\n\n".join(CORPUS)
# One-line fields (names, titles) get each payload in turn, cut to fit.
LINE = " ".join(CORPUS[:3]) + " " + CORPUS[13]


class Executable(HTMLParser):
    """Collect what a browser could run: inline or foreign scripts, handlers, script URLs, framing, base."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.script_open = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script":
            src = values.get("src") or ""
            if not src.startswith("/static/"):
                self.found.append(f"<script src={src!r}>")
            self.script_open = True
        if tag in {"iframe", "object", "embed", "base", "frame", "frameset"}:
            self.found.append(f"<{tag}>")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh" and "javascript" in str(values):
            self.found.append("<meta refresh javascript>")
        for name, value in attrs:
            text = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            outside_url = "url(" in text.replace("url(#", "")
            if name == "style" and (outside_url or "expression(" in text or "javascript" in text):
                self.found.append(f"{tag}[style={text}]")
            if name in {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"} and (
                text.startswith(("javascript:", "data:text", "vbscript:")) or name == "srcdoc"
            ):
                self.found.append(f"{tag}[{name}={text[:40]}]")

    def handle_data(self, data):
        if self.script_open and data.strip():
            self.found.append(f"inline script {data.strip()[:40]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self.script_open = False


def executable(html: str) -> list[str]:
    parser = Executable()
    parser.feed(html)
    return parser.found


@pytest.fixture
def poisoned(db):
    """Load the demo world and write the corpus into every field that someone else reads."""
    from django.utils import timezone

    from accounts.models import Organization, User
    from events.models import MediaEvent
    from live.services import room_note_post
    from reports.models import EventReport
    from runbooks.services import execution_start, runbook_create
    from status import services as status_services
    from status.models import Incident

    seed_demo_world()
    engineer = User.objects.get(email="nadia@provider.example")
    Organization.objects.filter(slug=ORG).update(name=LINE[:120])
    events = MediaEvent.objects.filter(organization__slug=ORG)
    events.update(title=LINE[:200], notes=MARKDOWN)
    on_air = events.filter(status=MediaEvent.Status.ON_AIR).first()
    for text in CORPUS:
        room_note_post(event=on_air, by=engineer, text=text)
    EventReport.objects.filter(event__organization__slug=ORG).update(summary=MARKDOWN)
    steps = [{"kind": "manual_check", "title": payload[:200], "body": MARKDOWN} for payload in CORPUS[:4]]
    runbook = runbook_create(by=engineer, title=LINE[:200], phase="on_air", steps=steps, intro=MARKDOWN)
    version = runbook.versions.order_by("-number").first()
    execution_start(version=version, by=engineer, event=on_air)
    for incident in Incident.objects.filter(page__organization__slug=ORG, resolved_at__isnull=True)[:1]:
        status_services.incident_update_post(incident=incident, by=engineer, status=incident.status, body=MARKDOWN)
    status_services.incident_create(
        page=Incident.objects.filter(page__organization__slug=ORG).first().page,
        by=engineer,
        name=LINE[:200],
        body=MARKDOWN,
        started_at=timezone.now(),
    )
    return engineer


def test_no_page_runs_the_corpus(poisoned, django_capture_on_commit_callbacks):
    from accounts.models import User

    sampler = Sampler()
    owner = User.objects.filter(memberships__organization__slug=ORG, memberships__role="owner").first()
    readers = {"engineer": poisoned, "owner": owner, "anonymous": None}
    found: list[str] = []
    pages = 0
    showing: set[str] = set()
    for name, user in readers.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for route in routes():
            if route.route.startswith(("admin/", "api/")):
                continue
            response = client.get(sampler.url(route), secure=True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            body = response.content.decode()
            if "window.__xss" in body:
                showing.add(route.name)
            found += [f"{name} {route.name}: {item}" for item in executable(body)]
    print(
        f"XSS corpus ({len(CORPUS)} payloads): {len(found)} executable items over {pages} HTML pages read, "
        f"{len(showing)} kinds of page showing the payloads as text"
    )
    assert pages > 50
    # The fields were really shown: the event, live room, runbook, report and incident pages.
    for name in ("event-detail", "live-room", "runbook-detail", "event-report", "organization-dashboard"):
        assert name in showing, name
    assert found == [], "\n".join(found)


BROWSER_PAGES = {
    "engineer": [
        "engineering-queue", "event-detail", "live-room", "runbook-detail", "runbook-execution", "event-report",
        "status-manage-incident-detail", "status-manage-incidents", "organization-dashboard", "event-list",
    ],
    "owner": ["organization-dashboard", "event-detail", "live-room", "event-report", "runbook-execution-list",
              "runbook-execution-detail", "status-manage-incident-detail"],
    "anonymous": ["status-page", "status-history"],
}  # fmt: skip


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_chromium_runs_none_of_the_corpus_even_without_csp(poisoned, chromium, live_server, settings):
    from accounts.models import User

    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    sampler = Sampler()
    by_name = {route.name: route for route in routes()}
    owner = User.objects.filter(memberships__organization__slug=ORG, memberships__role="owner").first()
    users = {"engineer": poisoned, "owner": owner, "anonymous": None}
    fired: list[str] = []
    visited = 0
    for persona, names in BROWSER_PAGES.items():
        # CSP bypassed: what is proven here is the escaping and sanitising, not the policy.
        context = chromium.new_context(base_url=live_server.url, bypass_csp=True)
        if users[persona] is not None:
            client = Client()
            client.force_login(users[persona])
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.on(
            "dialog", lambda dialog, who=persona: (fired.append(f"{who} dialog {dialog.message}"), dialog.dismiss())
        )
        for name in names:
            url = sampler.url(by_name[name])
            response = page.goto(url)
            assert response.status == 200, (persona, url, response.status)
            page.wait_for_load_state("load")
            # Hovering and toggling is what mouse-over and toggle handlers wait for.
            for element in page.locator("main a, main details, main img").all()[:40]:
                element.dispatch_event("mouseover")
            visited += 1
            if page.evaluate("typeof window.__xss") != "undefined":
                fired.append(f"{persona} {url}: window.__xss set")
        context.close()
    # The control: the same payloads, unescaped, do run here.
    control = chromium.new_context(bypass_csp=True).new_page()
    control.set_content("".join(CORPUS[:2]))
    control.wait_for_function("window.__xss === 1")
    control.context.close()
    print(f"XSS corpus in Chromium (CSP bypassed): {len(fired)} payloads ran over {visited} pages")
    assert fired == []
