"""Build every AWS client of the project: the portal's own session, assumed-role sessions, and error translation.

Clients get one configuration (timeouts, standard-mode retries with a quick
first retry, see ``cloud.retries``, our user agent) and point at
``settings.AWS_ENDPOINT_URL`` when it is set, which is how the embedded default
talks to the simulated account instead of AWS.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
import botocore.loaders
import botocore.session
from django.conf import settings

from cloud.errors import translate_errors
from cloud.exceptions import CloudError, RoleNotAssumable
from cloud.retries import TOTAL_MAX_ATTEMPTS, use_quick_backoff

if TYPE_CHECKING:
    from botocore.client import BaseClient

# Standard mode, not adaptive: adaptive mode rate-limits the whole client-side
# process, so one throttled tenant would slow every other tenant's calls.
BOTO_CONFIG = botocore.config.Config(
    connect_timeout=5,
    read_timeout=20,
    retries={"mode": "standard", "total_max_attempts": TOTAL_MAX_ATTEMPTS},
    user_agent_extra="primetime",
)

# Credentials are dropped this long before they expire, so a call that starts
# on cached credentials never runs out of time half-way (clock skew included).
RENEW_BEFORE_EXPIRY = timedelta(minutes=5)
SESSION_DURATION_SECONDS = 3600


@dataclass(frozen=True)
class RoleLink:
    """Name a client's role and the external id the portal generated for it."""

    role_arn: str
    # Not a secret, but it has no business in logs or error pages.
    external_id: str = field(repr=False)


def endpoint_url() -> str | None:
    """Return the endpoint every client uses: the simulated account's URL, or None for real AWS."""
    return getattr(settings, "AWS_ENDPOINT_URL", None) or None


def default_region() -> str:
    """Return the region for calls that are not about a client's resources (STS)."""
    return getattr(settings, "AWS_DEFAULT_REGION", None) or "eu-west-3"


class _SharedLoader(botocore.loaders.Loader):
    """Load each service model once per process, however many sessions (one per tenant and hour) use it."""

    @property
    def search_paths(self) -> list[str]:
        # boto3 appends its data path to the loader of every new Session; on a
        # shared loader that list would grow forever. Its path is set once below.
        return list(self._search_paths)


_LOADER = _SharedLoader(extra_search_paths=[str(Path(boto3.__file__).parent / "data")])


def _boto3_session(**kwargs: Any) -> boto3.Session:
    # Parsing a service model costs up to a quarter of a second (EC2's); every
    # session would parse its own copy without the shared loader.
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, **kwargs)


def _new_client(session: boto3.Session, service: str, region: str) -> BaseClient:
    # The only place a client is created: one config, one endpoint rule, one retry policy.
    client = session.client(service, region_name=region, endpoint_url=endpoint_url(), config=BOTO_CONFIG)
    return use_quick_backoff(client)


# --- The portal's own credentials ------------------------------------------

_provider_lock = threading.Lock()
_provider_session: boto3.Session | None = None
_provider_clients: dict[tuple[str, str, str | None], BaseClient] = {}


def provider_session() -> boto3.Session:
    """Return the portal's own session (environment variables or the instance role), built once per process."""
    global _provider_session
    with _provider_lock:
        if _provider_session is None:
            # The default chain refreshes instance-role credentials by itself.
            _provider_session = _boto3_session()
        return _provider_session


def provider_client(service: str, region: str | None = None) -> BaseClient:
    """Return a client on the portal's own credentials (for STS, and for seeding the simulated account)."""
    region = region or default_region()
    session = provider_session()
    key = (service, region, endpoint_url())
    # boto3 sessions are not thread-safe; the clients they make are.
    with _provider_lock:
        client = _provider_clients.get(key)
        if client is None:
            client = _provider_clients[key] = _new_client(session, service, region)
        return client


# --- Assumed-role sessions, cached per link ---------------------------------


def session_name_for(link: RoleLink, *, purpose: str = "") -> str:
    """Name the STS session so the client's CloudTrail shows it is Primetime, without revealing the external id."""
    digest = hashlib.sha256(link.role_arn.encode()).hexdigest()[:12]
    return f"primetime-{purpose}-{digest}" if purpose else f"primetime-{digest}"


def assume_role(role_arn: str, *, external_id: str | None, session_name: str) -> dict[str, Any]:
    """Call STS AssumeRole (with the external id when given) and return the temporary credentials.

    Raise RoleNotAssumable when STS says no: the trust policy does not name the
    portal's account, requires another external id, or the role does not exist.
    """
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": SESSION_DURATION_SECONDS,
    }
    if external_id is not None:
        params["ExternalId"] = external_id
    sts = provider_client("sts")
    try:
        with translate_errors("sts", "AssumeRole"):
            return sts.assume_role(**params)["Credentials"]
    except CloudError as error:
        if error.code != "AccessDenied":
            raise
        raise RoleNotAssumable(
            f"Primetime could not assume {role_arn}: check that the role exists, that its trust policy names "
            f"account {settings.PROVIDER_AWS_ACCOUNT_ID} and requires the external id shown in the portal.",
            code=error.code,
        ) from error


def _session_from(credentials: dict[str, Any], region: str) -> boto3.Session:
    return _boto3_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def credentials_client(credentials: dict[str, Any], service: str, region: str | None = None) -> BaseClient:
    """Return an uncached client on temporary credentials from ``assume_role`` (for one-off checks)."""
    region = region or default_region()
    return _new_client(_session_from(credentials, region), service, region)


@dataclass
class _Assumed:
    credentials: dict[str, Any]
    expiration: datetime
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: dict[str, boto3.Session] = field(default_factory=dict)
    clients: dict[tuple[str, str, str | None], BaseClient] = field(default_factory=dict)

    def is_fresh(self, now: datetime) -> bool:
        return now < self.expiration - RENEW_BEFORE_EXPIRY

    def session(self, region: str) -> boto3.Session:
        # Call with self.lock held.
        session = self.sessions.get(region)
        if session is None:
            session = self.sessions[region] = _session_from(self.credentials, region)
        return session


_registry_lock = threading.Lock()
_link_locks: dict[tuple[str, str], threading.Lock] = {}
_assumed: dict[tuple[str, str], _Assumed] = {}


def _fresh_assumed(link: RoleLink) -> _Assumed:
    key = (link.role_arn, link.external_id)
    with _registry_lock:
        lock = _link_locks.setdefault(key, threading.Lock())
    # One lock per link: a slow AssumeRole for one tenant does not hold up the others.
    with lock:
        entry = _assumed.get(key)
        if entry is None or not entry.is_fresh(datetime.now(UTC)):
            credentials = assume_role(link.role_arn, external_id=link.external_id, session_name=session_name_for(link))
            expiration = credentials["Expiration"]
            if expiration.tzinfo is None:
                expiration = expiration.replace(tzinfo=UTC)
            entry = _assumed[key] = _Assumed(credentials=credentials, expiration=expiration)
        return entry


def assumed_session(link: RoleLink, *, region: str) -> boto3.Session:
    """Return a session on the client's role, reusing cached credentials until 5 minutes before they expire."""
    entry = _fresh_assumed(link)
    with entry.lock:
        return entry.session(region)


def aws_client(link: RoleLink, service: str, region: str) -> BaseClient:
    """Return a client for ``service`` in ``region`` acting as the client's role (cached with its credentials)."""
    entry = _fresh_assumed(link)
    key = (service, region, endpoint_url())
    with entry.lock:
        client = entry.clients.get(key)
        if client is None:
            client = entry.clients[key] = _new_client(entry.session(region), service, region)
            client.meta.events.register("after-call", _forget_expired(link))
        return client


EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


def _forget_expired(link: RoleLink):
    """Drop the link's cached credentials when AWS says they expired, so the retry assumes the role again."""

    def after_call(parsed=None, **_kwargs) -> None:
        code = ((parsed or {}).get("Error") or {}).get("Code")
        if code in EXPIRED_CODES:
            forget_link(link)

    return after_call


def forget_link(link: RoleLink) -> None:
    """Drop the cached credentials of one link (after the client changed or removed the role)."""
    with _registry_lock:
        _assumed.pop((link.role_arn, link.external_id), None)


def reset_sessions() -> None:
    """Drop every cached session and client (tests, and after the endpoint changed)."""
    with _registry_lock:
        _assumed.clear()
        _link_locks.clear()
    global _provider_session
    with _provider_lock:
        _provider_session = None
        _provider_clients.clear()
