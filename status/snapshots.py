"""Published snapshots of public status pages: rendered bytes any web process reads without the database.

A page's artifacts (HTML per language, the Statuspage JSON, feeds, badge, incident pages, history months)
are rendered by the publisher when something changes and stored in the ``status`` cache (Redis in
production, files in the embedded default, so web and worker processes share them). Each web process
keeps what it served in memory and re-checks the page's version at most once per
``STATUS_SNAPSHOT_RECHECK`` seconds, so a request under a spike usually touches nothing but memory.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate

from django.conf import settings
from django.core.cache import caches

PREFIX = "status:v1"
MIN_GZIP_BYTES = 512


@dataclass(frozen=True)
class Snapshot:
    """One artifact's bytes and the headers that go with them."""

    body: bytes
    content_type: str
    published_at: float
    gzipped: bytes | None = None
    etag: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, body: bytes, content_type: str, published_at: float, headers: dict | None = None) -> Snapshot:
        packed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= MIN_GZIP_BYTES else None
        return cls(
            body=body,
            content_type=content_type,
            published_at=published_at,
            gzipped=packed if packed and len(packed) < len(body) else None,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            headers=dict(headers or {}),
        )

    @property
    def last_modified(self) -> str:
        return formatdate(self.published_at, usegmt=True)


@dataclass(frozen=True)
class PageMeta:
    """What the front door needs to know about a page without asking the database."""

    slug: str
    version: int
    visibility: str
    language: str
    password_hash: str = ""
    name: str = ""


def _cache():
    return caches[settings.STATUS_SNAPSHOT_CACHE]


def _key(*parts: str) -> str:
    # Cache keys must stay printable and short: paths are hashed.
    return ":".join((PREFIX, *parts))


def artifact_key(slug: str, path: str) -> str:
    return _key("a", slug, hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest())


def store(meta: PageMeta, artifacts: dict[str, Snapshot]) -> None:
    """Write the artifacts, then the page's meta with its new version (readers see the new set only then)."""
    cache = _cache()
    cache.set_many({artifact_key(meta.slug, path): snapshot for path, snapshot in artifacts.items()}, timeout=None)
    cache.set(_key("m", meta.slug), meta, timeout=None)


def store_one(slug: str, path: str, snapshot: Snapshot) -> None:
    """Add one lazily rendered artifact (an old incident, an old month) without bumping the version."""
    _cache().set(artifact_key(slug, path), snapshot, timeout=None)


def map_domain(domain: str, slug: str | None) -> None:
    """Point a custom domain at a page's slug (None removes it)."""
    if slug is None:
        _cache().delete(_key("d", domain))
    else:
        _cache().set(_key("d", domain), slug, timeout=None)


def forget(slug: str) -> None:
    _cache().delete(_key("m", slug))
    with _memory_lock:
        _metas.pop(slug, None)


# --- Per-process memory -----------------------------------------------------------

_memory_lock = threading.Lock()
_metas: dict[str, tuple[float, PageMeta | None]] = {}
_artifacts: dict[tuple[str, str], tuple[int, Snapshot]] = {}
_domains: dict[str, tuple[float, str | None]] = {}
MAX_MEMORY_ARTIFACTS = 2000


def clear_memory() -> None:
    with _memory_lock:
        _metas.clear()
        _artifacts.clear()
        _domains.clear()


def page_meta(slug: str) -> PageMeta | None:
    """Return the page's published meta, re-read from the store at most once per recheck interval."""
    now = time.monotonic()
    with _memory_lock:
        cached = _metas.get(slug)
    if cached and now - cached[0] < settings.STATUS_SNAPSHOT_RECHECK:
        return cached[1]
    meta = _cache().get(_key("m", slug))
    with _memory_lock:
        _metas[slug] = (now, meta)
    return meta


def artifact(meta: PageMeta, path: str) -> Snapshot | None:
    """Return the artifact of the page's current version, from memory when this process already has it."""
    with _memory_lock:
        cached = _artifacts.get((meta.slug, path))
    if cached and cached[0] == meta.version:
        return cached[1]
    snapshot = _cache().get(artifact_key(meta.slug, path))
    if snapshot is not None:
        with _memory_lock:
            if len(_artifacts) >= MAX_MEMORY_ARTIFACTS:
                _artifacts.clear()
            _artifacts[(meta.slug, path)] = (meta.version, snapshot)
    return snapshot


def slug_for_domain(domain: str) -> str | None:
    now = time.monotonic()
    with _memory_lock:
        cached = _domains.get(domain)
    if cached and now - cached[0] < settings.STATUS_SNAPSHOT_RECHECK:
        return cached[1]
    slug = _cache().get(_key("d", domain))
    with _memory_lock:
        if len(_domains) > 10_000:  # hosts are client-supplied: keep the memory bounded
            _domains.clear()
        _domains[domain] = (now, slug)
    return slug
