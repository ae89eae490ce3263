"""A loopback HTTP proxy in front of moto's server that answers like AWS on a bad day, by rule.

Every request is forwarded to moto (with a timeout) unless the proxy's rule
says otherwise. A rule is a callable that takes the parsed ``AwsRequest`` and
returns a fault, a list of faults, or None; the helpers below build the usual
ones and keep their own counters, so they are deterministic::

    with AwsFaultProxy(moto_endpoint) as proxy:        # or the ``fault_proxy`` fixture
        proxy.rule = every_other(THROTTLING)            # 1st, 3rd, ... call of each operation
        proxy.rule = storm(SERVICE_UNAVAILABLE, length=5, after=1, operations=["PutScheduledAction"])
        proxy.rule = always(ACCESS_DENIED, operations=["autoscaling:BatchPutScheduledUpdateGroupAction"])
        proxy.rule = combine(always(Latency(0.2)), every_other(THROTTLING))
        proxy.stats["application-autoscaling:PutScheduledAction"].faulted

Operations are named ``service:Operation`` after the SigV4 signing name and
the ``X-Amz-Target`` header or the ``Action`` form field, as IAM names them;
a rule may name them with or without the service. Error answers take the
shape of the request's protocol: XML ``ErrorResponse`` for query services
(Auto Scaling, STS, ELBv2), ``{"__type": ...}`` for JSON ones (Application
Auto Scaling, ECS), so botocore parses them as it would AWS's.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "content-length"}
)  # fmt: skip
SIGNING_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


# --- What a request is -------------------------------------------------------


@dataclass(frozen=True)
class AwsRequest:
    """Describe one AWS call as the proxy saw it; ``number`` counts this operation's calls from 1."""

    service: str
    operation: str
    protocol: str  # "json" or "query"
    method: str
    path: str
    params: dict[str, Any]
    number: int
    overall: int

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"


def _parse(method: str, path: str, headers: Any, body: bytes) -> tuple[str, str, str, dict[str, Any]]:
    match = SIGNING_SERVICE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else ""
    target = headers.get("X-Amz-Target", "")
    content_type = headers.get("Content-Type", "")
    if target or content_type.startswith("application/x-amz-json"):
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return service, target.rsplit(".", 1)[-1], "json", params if isinstance(params, dict) else {}
    params = dict(parse_qsl(urlsplit(path).query))
    if "x-www-form-urlencoded" in content_type:
        params.update(parse_qsl(body.decode("utf-8", "replace")))
    return service, params.get("Action", ""), "query", params


# --- Faults ------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Delay the call by ``seconds``: before forwarding it, or after AWS answered (it has acted, the answer is late)."""

    seconds: float
    after_forwarding: bool = False
    name: str = "latency"


@dataclass(frozen=True)
class ErrorFault:
    """Answer an AWS error instead of moto's answer (or after forwarding: AWS acted, but the caller sees the error).

    ``status`` 0 closes the connection without an answer.
    """

    name: str
    status: int
    code: str
    json_type: str
    message: str
    json_status: int | None = None
    sender: bool = True
    after_forwarding: bool = False

    def after_forward(self) -> ErrorFault:
        """Return the same fault, answered after the request reached moto (a lost answer)."""
        return replace(self, after_forwarding=True, name=f"{self.name} after forwarding")

    def render(self, request: AwsRequest) -> tuple[int, dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        message = self.message.format(service=request.service, operation=request.operation, action=request.key)
        headers = {"x-amzn-RequestId": request_id}
        if request.protocol == "json":
            headers["Content-Type"] = "application/x-amz-json-1.1"
            body = json.dumps({"__type": self.json_type, "message": message}).encode()
            return self.json_status or self.status, headers, body
        headers["Content-Type"] = "text/xml"
        kind = "Sender" if self.sender else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{self.code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return self.status, headers, body


THROTTLING = ErrorFault("throttling", 400, "Throttling", "ThrottlingException", "Rate exceeded")
SERVICE_UNAVAILABLE = ErrorFault(
    "service unavailable", 503, "ServiceUnavailable", "ServiceUnavailableException",
    "Service is unavailable, try again later", sender=False,
)  # fmt: skip
ACCESS_DENIED = ErrorFault(
    "access denied", 403, "AccessDenied", "AccessDeniedException",
    "User: arn:aws:sts::123456789012:assumed-role/PrimetimeAccess/fault-proxy is not authorized to perform: "
    "{action} because no identity-based policy allows the {action} action",
    json_status=400,
)  # fmt: skip
# Not retried by botocore; the portal treats it as transient (its task retries).
EXPIRED_TOKEN = ErrorFault(
    "expired token",
    400,
    "ExpiredToken",
    "ExpiredTokenException",
    "The security token included in the request is expired",
)
DROP = ErrorFault("dropped connection", 0, "", "", "")

Fault = Latency | ErrorFault
Rule = Callable[[AwsRequest], "Fault | Iterable[Fault] | None"]


# --- Rules -------------------------------------------------------------------


def _matches(request: AwsRequest, operations: Iterable[str]) -> bool:
    names = set(operations)
    return not names or request.operation in names or request.key in names


def always(*faults: Fault, operations: Iterable[str] = ()) -> Rule:
    """Apply the faults to every call of the operations (every operation when none is named)."""
    operations = tuple(operations)
    return lambda request: list(faults) if _matches(request, operations) else None


def every_other(*faults: Fault, operations: Iterable[str] = ()) -> Rule:
    """Apply the faults to the 1st, 3rd, 5th... call of each matching operation: half of them, deterministically."""
    operations = tuple(operations)
    seen: Counter[str] = Counter()

    def rule(request: AwsRequest) -> list[Fault] | None:
        if not _matches(request, operations):
            return None
        seen[request.key] += 1
        return list(faults) if seen[request.key] % 2 == 1 else None

    return rule


def storm(*faults: Fault, length: int, after: int = 0, operations: Iterable[str] = ()) -> Rule:
    """Let ``after`` matching calls through, apply the faults to the next ``length``, then let everything through."""
    operations = tuple(operations)
    seen = 0

    def rule(request: AwsRequest) -> list[Fault] | None:
        nonlocal seen
        if not _matches(request, operations):
            return None
        seen += 1
        return list(faults) if after < seen <= after + length else None

    return rule


def combine(*rules: Rule) -> Rule:
    """Apply every rule to every call (so each keeps counting) and gather their faults: latency plus an error."""

    def rule(request: AwsRequest) -> list[Fault]:
        found: list[Fault] = []
        for each in rules:
            found.extend(_as_list(each(request)))
        return found

    return rule


def _as_list(faults: Fault | Iterable[Fault] | None) -> list[Fault]:
    if faults is None:
        return []
    if isinstance(faults, Latency | ErrorFault):
        return [faults]
    return list(faults)


# --- Counting ----------------------------------------------------------------


@dataclass
class OperationStats:
    """Count one operation's calls: seen, forwarded to moto, answered with a fault (by fault), delayed."""

    requests: int = 0
    forwarded: int = 0
    faulted: int = 0
    delayed: int = 0
    faults: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Exchange:
    """Record one call: what was asked, whether moto saw it, what the caller got back."""

    request: AwsRequest
    forwarded: bool
    status: int
    fault: str | None
    at: float  # time.monotonic() when moto answered (or the fault was chosen)


# --- The proxy ---------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = 30  # an idle keep-alive connection is closed after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test's output shows the test's own messages

    def _handle(self) -> None:
        self.server.proxy._handle(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: AwsFaultProxy


class AwsFaultProxy:
    """Forward HTTP calls to ``upstream`` (moto's server) and inject the faults ``rule`` returns; use as a context.

    ``url`` is where to point clients; ``stats`` counts per ``service:Operation``;
    ``exchanges`` lists every call in order; ``reset()`` forgets both and the rule.
    """

    def __init__(self, upstream: str, *, rule: Rule | None = None, timeout: float = 10.0) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.timeout = timeout
        self.rule = rule
        self._lock = threading.Lock()
        self._stats: dict[str, OperationStats] = {}
        self._exchanges: list[Exchange] = []
        self._overall = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> AwsFaultProxy:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AwsFaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # What happened

    @property
    def stats(self) -> dict[str, OperationStats]:
        """Return a snapshot of the counts per ``service:Operation`` (missing operations read as zero)."""
        with self._lock:
            snapshot = {key: replace(value, faults=Counter(value.faults)) for key, value in self._stats.items()}
        return _ZeroDict(snapshot)

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()
            self._exchanges.clear()
            self._overall = 0
            self.rule = None

    # One call

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        service, operation, protocol, params = _parse(handler.command, handler.path, handler.headers, body)
        faults: list[Fault] = []
        request = None
        if operation:
            with self._lock:
                self._overall += 1
                stats = self._stats.setdefault(f"{service}:{operation}", OperationStats())
                stats.requests += 1
                request = AwsRequest(
                    service, operation, protocol, handler.command, handler.path, params, stats.requests, self._overall
                )
                # Rules run one at a time, so their counters need no lock of their own.
                faults = _as_list(self.rule(request)) if self.rule else []
        error = next((fault for fault in faults if isinstance(fault, ErrorFault)), None)
        delays = [fault for fault in faults if isinstance(fault, Latency)]
        time.sleep(sum(delay.seconds for delay in delays if not delay.after_forwarding))
        forwarded = error is None or error.after_forwarding
        if forwarded:
            status, headers, answer = self._forward(handler, body)
        if error is not None and request is not None:
            status, headers, answer = error.render(request)
        if request is not None:
            # Counted as soon as moto has acted, before any late answer: a test can act in that window.
            with self._lock:
                stats = self._stats[request.key]
                stats.forwarded += forwarded
                stats.delayed += bool(delays)
                if error is not None:
                    stats.faulted += 1
                    stats.faults[error.name] += 1
                self._exchanges.append(
                    Exchange(request, forwarded, status, error.name if error else None, time.monotonic())
                )
        time.sleep(sum(delay.seconds for delay in delays if delay.after_forwarding))
        self._answer(handler, status, headers, answer)

    def _forward(self, handler: _Handler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = {key: value for key, value in handler.headers.items() if key.lower() not in HOP_BY_HOP}
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=self.timeout)
        try:
            connection.request(handler.command, handler.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            return response.status, dict(response.getheaders()), answer
        except (OSError, http.client.HTTPException) as error:
            # A gateway error: botocore retries it, as it would AWS's.
            return 502, {"Content-Type": "text/plain"}, f"fault proxy: moto did not answer ({error})".encode()
        finally:
            connection.close()

    @staticmethod
    def _answer(handler: _Handler, status: int, headers: dict[str, str], body: bytes) -> None:
        if status == 0:
            handler.close_connection = True
            return
        try:
            handler.send_response(status)
            for key, value in headers.items():
                if key.lower() not in HOP_BY_HOP:
                    handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The caller went away (a killed worker): nobody to answer.
            handler.close_connection = True


class _ZeroDict(dict):
    def __missing__(self, key: str) -> OperationStats:
        return OperationStats()


@pytest.fixture
def fault_proxy(moto_endpoint: str, settings: Any) -> Iterator[AwsFaultProxy]:
    """Point the portal's AWS clients at a fault proxy in front of moto's server; no fault until a rule is set."""
    from cloud.client import reset_sessions

    with AwsFaultProxy(moto_endpoint) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url
        reset_sessions()
        try:
            yield proxy
        finally:
            reset_sessions()
