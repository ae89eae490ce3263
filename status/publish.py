"""Render a status page's public artifacts and store them as snapshots (see status/snapshots.py).

A change anywhere on a page calls ``request_publish``; changes within ``STATUS_PUBLISH_DELAY`` seconds
publish once. A publish renders the page-wide artifacts (HTML in both languages, every Statuspage JSON
endpoint, feeds, badge) plus the incident pages and history months that changed since the last publish;
older incident pages and months are rendered the first time someone asks (``render_artifact``) and kept.
Its cost therefore follows what changed, not how much history the page has.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from status import markdown, snapshots
from status.models import Component, Incident, StatusPage
from status.public_context import (
    history_context,
    incident_context,
    open_incidents,
    page_context,
    visible_incidents,
)
from status.snapshots import PageMeta, Snapshot
from status.statuspage import (
    MAX_INCIDENTS,
    components_list,
    incident_object,
    page_object,
    page_url,
    status_indicator,
    with_details,
)

LANGUAGES = ("en", "fr")
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"
BAR_STEP, BAR_DAY_WIDTH = 4, 3
FEED_ITEMS = 25
MAX_LOGO_BYTES = 256 * 1024
UNRESOLVED = ["investigating", "identified", "monitoring"]


def artifact_path(rel: str, *, language: str | None = None, month: str | None = None) -> str:
    """Return the store key of an artifact: the path under the page root plus its canonical query."""
    query = "&".join(
        part for part in (f"month={month}" if month else "", f"lang={language}" if language else "") if part
    )
    return f"{rel}?{query}" if query else rel


# --- Rendering ------------------------------------------------------------------------


def _logo_data_uri(page: StatusPage) -> str:
    # Inlined, so the published page needs nothing else that could be down.
    if not page.logo:
        return ""
    try:
        with page.logo.open("rb") as handle:
            data = handle.read(MAX_LOGO_BYTES + 1)
    except OSError:
        return ""
    if len(data) > MAX_LOGO_BYTES:
        return ""
    kind = "png" if data.startswith(b"\x89PNG") else "jpeg" if data.startswith(b"\xff\xd8") else "webp"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


@dataclass
class Renderer:
    page: StatusPage
    published_at: float

    def __post_init__(self):
        self.zone = zoneinfo.ZoneInfo(self.page.time_zone)
        self.accent_style = f":root{{--accent:{self.page.accent_colour}}}"
        self.logo = _logo_data_uri(self.page)
        digest = base64.b64encode(hashlib.sha256(self.accent_style.encode()).digest()).decode()
        # No script at all; the one inline style is allowed by its hash.
        self.html_headers = {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'self' 'sha256-{digest}'; img-src 'self' data:; "
                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            ),
            "Content-Language": "",
        }

    def html(self, template: str, context: dict, *, language: str, root: str) -> Snapshot:
        with translation.override(language), timezone.override(self.zone):
            body = render_to_string(
                template,
                {
                    **context,
                    "root": root,
                    "language": language,
                    "accent_style": self.accent_style,
                    "logo_data_uri": self.logo,
                    "published_at": datetime.fromtimestamp(self.published_at, tz=self.zone),
                    "bar_step": BAR_STEP,
                    "bar_day_width": BAR_DAY_WIDTH,
                    "bar_width": BAR_STEP * context.get("uptime_days", 90),
                },
            )
        headers = {**self.html_headers, "Content-Language": language}
        return Snapshot.build(body.encode(), HTML_TYPE, self.published_at, headers)

    def json(self, data: dict) -> Snapshot:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return Snapshot.build(body, JSON_TYPE, self.published_at)

    def incident_page(self, incident: Incident, language: str) -> Snapshot:
        context = incident_context(self.page, incident, language=language)
        context["postmortem_html"] = markdown.render(incident.postmortem_body)
        return self.html("status/public/incident.html", context, language=language, root="../../")

    def history(self, month: date, language: str) -> Snapshot:
        context = history_context(self.page, month=month, language=language)
        return self.html("status/public/history.html", context, language=language, root="../")


def _feed(page: StatusPage, incidents: list[Incident], kind: type, published_at: float) -> Snapshot:
    url = page_url(page)
    feed = kind(
        title=page.name,
        link=f"{url}/",
        description=f"{page.name}: incidents and maintenance",
        language=page.language,
        feed_url=f"{url}/feed.atom" if kind is Atom1Feed else f"{url}/feed.rss",
        feed_guid=f"urn:primetime:status:{page.public_id}",
    )
    for incident in incidents:
        updates = list(incident.updates.all())
        latest = updates[0] if updates else None
        feed.add_item(
            title=f"{incident.name} ({incident.status})",
            link=f"{url}/incidents/{incident.public_id}/",
            description=latest.body_html if latest else "",
            unique_id=f"urn:primetime:incident:{incident.public_id}:{latest.public_id if latest else ''}",
            unique_id_is_permalink=False,
            pubdate=incident.started_at,
            updateddate=latest.display_at if latest else incident.updated_at,
        )
    content_type = "application/atom+xml; charset=utf-8" if kind is Atom1Feed else "application/rss+xml; charset=utf-8"
    return Snapshot.build(feed.writeString("utf-8").encode(), content_type, published_at)


BADGE_COLOURS = {"none": "#1a7f37", "minor": "#b08800", "major": "#d1570f", "critical": "#c62828",
                 "maintenance": "#1f6feb"}  # fmt: skip
BADGE_WORDS = {"none": "operational", "minor": "minor outage", "major": "partial outage",
               "critical": "major outage", "maintenance": "maintenance"}  # fmt: skip


def _badge(indicator: str, published_at: float) -> Snapshot:
    """A shields-style SVG badge: "status | operational", sized by character count (no font metrics here)."""
    word = BADGE_WORDS[indicator]
    left, right = 48, 10 + 7 * len(word)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" role="img" '
        f'aria-label="status: {word}"><title>status: {word}</title>'
        f'<rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" '
        f'fill="{BADGE_COLOURS[indicator]}"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" '
        f'font-size="11" text-anchor="middle"><text x="{left / 2}" y="14">status</text>'
        f'<text x="{left + right / 2}" y="14">{word}</text></g></svg>'
    )
    return Snapshot.build(svg.encode(), "image/svg+xml", published_at)


def _json_artifacts(renderer: Renderer, page: StatusPage, now: datetime) -> tuple[dict[str, Snapshot], str]:
    components = list(Component.objects.filter(page=page).select_related("group").order_by("position", "pk"))
    groups = list(page.groups.all())
    incidents = visible_incidents(page)
    unresolved = open_incidents(incidents)
    maintenance = with_details(incidents.filter(kind=Incident.Kind.MAINTENANCE))
    active = list(maintenance.filter(status__in=["in_progress", "verifying"]).order_by("scheduled_for"))
    upcoming = list(maintenance.filter(status="scheduled", scheduled_until__gt=now).order_by("scheduled_for"))
    recent = list(with_details(incidents.filter(kind=Incident.Kind.INCIDENT).order_by("-started_at")[:MAX_INCIDENTS]))
    recent_maintenance = list(maintenance.order_by("-scheduled_for")[:MAX_INCIDENTS])
    page_data = page_object(page, updated_at=now)
    status = status_indicator(components, unresolved, bool(active))
    listed = components_list(page, components, groups)
    objects = {incident.pk: incident_object(incident, page) for incident in
               {*unresolved, *active, *upcoming, *recent, *recent_maintenance}}  # fmt: skip

    def rows(items):
        return [objects[item.pk] for item in items]

    data = {
        "summary.json": {
            "page": page_data,
            "components": listed,
            "incidents": rows(unresolved),
            "scheduled_maintenances": rows(active + upcoming),
            "status": status,
        },
        "status.json": {"page": page_data, "status": status},
        "components.json": {"page": page_data, "components": listed},
        "incidents.json": {"page": page_data, "incidents": rows(recent)},
        "incidents/unresolved.json": {"page": page_data, "incidents": rows(unresolved)},
        "scheduled-maintenances.json": {"page": page_data, "scheduled_maintenances": rows(recent_maintenance)},
        "scheduled-maintenances/upcoming.json": {"page": page_data, "scheduled_maintenances": rows(upcoming)},
        "scheduled-maintenances/active.json": {"page": page_data, "scheduled_maintenances": rows(active)},
    }
    artifacts = {f"api/v2/{name}": renderer.json(body) for name, body in data.items()}
    feed_items = sorted({*recent, *recent_maintenance}, key=lambda item: item.started_at, reverse=True)[:FEED_ITEMS]
    artifacts["feed.atom"] = _feed(page, feed_items, Atom1Feed, renderer.published_at)
    artifacts["feed.rss"] = _feed(page, feed_items, Rss201rev2Feed, renderer.published_at)
    artifacts["badge.svg"] = _badge(status["indicator"], renderer.published_at)
    return artifacts, status["indicator"]


@dataclass(frozen=True)
class Published:
    slug: str
    artifacts: int
    seconds: float


def publish(page_id: int, *, now: datetime | None = None) -> Published:
    """Render and store the page's artifacts; idempotent (a second publish stores the same bytes)."""
    started = time.perf_counter()
    now = now or timezone.now()
    page = StatusPage.objects.get(pk=page_id)
    renderer = Renderer(page, published_at=now.timestamp())
    artifacts, _indicator = _json_artifacts(renderer, page, now)
    for language in LANGUAGES:
        context = page_context(page, language=language, now=now)
        artifacts[artifact_path("", language=language)] = renderer.html(
            "status/public/page.html", context, language=language, root=""
        )
    # Incident pages and history months that changed since the last publish (and everything still open).
    since = (page.published_at or now) - timedelta(seconds=5)
    changed = _changed(page, since=since if page.published_at else None, now=now)
    zone = zoneinfo.ZoneInfo(page.time_zone)
    months = {now.astimezone(zone).date().replace(day=1)}
    for incident in changed:
        months.add(incident.started_at.astimezone(zone).date().replace(day=1))
        for language in LANGUAGES:
            artifacts[artifact_path(f"incidents/{incident.public_id}/", language=language)] = renderer.incident_page(
                incident, language
            )
    current = now.astimezone(zone).date().replace(day=1)
    for month in months:
        for language in LANGUAGES:
            snapshot = renderer.history(month, language)
            artifacts[artifact_path("history/", language=language, month=month.strftime("%Y-%m"))] = snapshot
            if month == current:
                artifacts[artifact_path("history/", language=language)] = snapshot
    previous = snapshots.page_meta(page.slug)
    meta = PageMeta(
        slug=page.slug,
        version=(previous.version + 1) if previous else 1,
        visibility=page.visibility,
        language=page.language,
        password_hash=page.password_hash,
        name=page.name,
    )
    snapshots.store(meta, artifacts)
    _map_domain(page)
    StatusPage.objects.filter(pk=page.pk).update(published_at=now)
    return Published(page.slug, len(artifacts), time.perf_counter() - started)


def _changed(page: StatusPage, *, since: datetime | None, now: datetime) -> list[Incident]:
    """Return the incidents whose pages to render: changed since the last publish, and everything still open.

    A first publish (no ``since``) renders the last 90 days; anything older is rendered when first asked for.
    Two lookups on indexes (page, updated_at or started_at) and (page, kind, status), not one OR, which no
    index serves: with it, each publish read every incident the page ever had.
    """
    visible = visible_incidents(page).order_by()
    if since is not None:
        recent = visible.filter(updated_at__gte=since)
    else:
        recent = visible.filter(started_at__gte=now - timedelta(days=90))
    still_open = visible.filter(
        kind__in=Incident.Kind.values, status__in=[*UNRESOLVED, "scheduled", "in_progress", "verifying"]
    )
    ids = {*recent.values_list("pk", flat=True), *still_open.values_list("pk", flat=True)}
    return list(with_details(visible_incidents(page).filter(pk__in=ids)))


def _map_domain(page: StatusPage) -> None:
    from django.core.cache import caches

    cache = caches[settings.STATUS_SNAPSHOT_CACHE]
    key = f"{snapshots.PREFIX}:domain-of:{page.slug}"
    previous = cache.get(key)
    if previous and previous != page.custom_domain:
        snapshots.map_domain(previous, None)
    if page.custom_domain:
        snapshots.map_domain(page.custom_domain, page.slug)
    cache.set(key, page.custom_domain, timeout=None)


def render_artifact(page: StatusPage, path: str) -> Snapshot | None:
    """Render one artifact the store does not hold yet (an old incident, an old month) and keep it."""
    rel, _, query = path.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    language = params.get("lang", page.language)
    renderer = Renderer(page, published_at=(page.published_at or timezone.now()).timestamp())
    snapshot = None
    if rel.startswith("incidents/") and rel.count("/") == 2:
        public_id = rel.split("/")[1]
        incident = with_details(visible_incidents(page).filter(public_id=public_id)).first()
        if incident is not None:
            snapshot = renderer.incident_page(incident, language)
    elif rel == "history/" and "month" in params:
        year, _dash, number = params["month"].partition("-")
        try:
            month = date(int(year), int(number), 1)
        except ValueError:
            return None
        snapshot = renderer.history(month, language)
    if snapshot is not None:
        snapshots.store_one(page.slug, path, snapshot)
    return snapshot


# --- Debounced requests -----------------------------------------------------------------


def request_publish(page_id: int) -> None:
    """Ask for a publish soon; a burst of changes within the delay publishes once."""
    from django.core.cache import caches

    from status.tasks_publish import publish_page_task

    queued = caches[settings.STATUS_SNAPSHOT_CACHE].add(
        f"{snapshots.PREFIX}:publish-queued:{page_id}", 1, timeout=max(30, settings.STATUS_PUBLISH_DELAY * 10)
    )
    if queued:
        publish_page_task.apply_async((page_id,), countdown=settings.STATUS_PUBLISH_DELAY)


def publish_now(page_id: int) -> Published:
    """The task's body: clear the request flag first, so a change made during the publish queues another."""
    from django.core.cache import caches

    caches[settings.STATUS_SNAPSHOT_CACHE].delete(f"{snapshots.PREFIX}:publish-queued:{page_id}")
    return publish(page_id)
