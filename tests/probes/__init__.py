"""Local servers, certificates and a fake resolver for the prober's tests.

There is no internet and no DNS in the test sandbox: every server listens on 127.0.0.1, and
names are answered by replacing ``portal.netguard.lookup`` (the one function that asks DNS).
"""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h2.config
import h2.connection
import h2.events
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Route = Callable[["Handler"], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _dispatch(self) -> None:
        self.server.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            respond(self, 404, b"not here")
        else:
            route(self)

    do_GET = _dispatch
    do_HEAD = _dispatch
    do_POST = _dispatch


def respond(
    handler: BaseHTTPRequestHandler, status: int = 200, body: bytes = b"", headers: list[tuple[str, str]] = ()
) -> None:
    """Write a whole answer with its Content-Length."""
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class LocalServer(ThreadingHTTPServer):
    """An HTTP(S) server on 127.0.0.1 that records what reached it."""

    daemon_threads = True

    def __init__(self, routes: dict[str, Route], tls: ssl.SSLContext | None = None) -> None:
        self.routes = routes
        self.tls = tls
        self.seen: list[Seen] = []
        self.connections = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def verify_request(self, request, client_address) -> bool:
        # Counted before any byte is read: a connection is enough to prove the guard failed.
        with self._lock:
            self.connections += 1
        return True

    def finish_request(self, request, client_address) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(5)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: expected in the TLS tests
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    def handle_error(self, request, client_address) -> None:
        pass  # clients that hang up early are part of the tests


@contextmanager
def serve(routes: dict[str, Route], tls: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    server = LocalServer(routes, tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def wait_then(seconds: float, status: int = 200, body: bytes = b"late") -> Route:
    """Answer after `seconds`, or as soon as the server stops (no sleeping past the test)."""

    def route(handler: Handler) -> None:
        handler.server.stop.wait(seconds)
        respond(handler, status, body)

    return route


def redirect(location: str, status: int = 302) -> Route:
    return lambda handler: respond(handler, status, b"", [("Location", location)])


def text(body: bytes | str, status: int = 200, headers: list[tuple[str, str]] = ()) -> Route:
    data = body.encode() if isinstance(body, str) else body
    return lambda handler: respond(handler, status, data, [("Content-Type", "text/html; charset=utf-8"), *headers])


def gzipped(body: bytes) -> Route:
    def route(handler: Handler) -> None:
        if "gzip" in handler.headers.get("Accept-Encoding", ""):
            respond(handler, 200, gzip.compress(body), [("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
        else:
            respond(handler, 200, body, [("Content-Type", "text/html")])

    return route


def free_port() -> int:
    """Return a port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeResolver:
    """Stand in for DNS: answers names from a table and counts the questions."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.table[host])


# --- Certificates ---


@dataclass
class Pki:
    """A throwaway certificate authority and the certificates it issues, as files under a folder."""

    folder: Path
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    name: x509.Name = field(
        default_factory=lambda: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Primetime Test CA")])
    )

    def __post_init__(self) -> None:
        now = datetime.now(tz=UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_path = self.folder / "ca.pem"
        self.ca_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def server_context(
        self, *hostnames: str, days: int = 30, expired: bool = False, self_signed: bool = False
    ) -> ssl.SSLContext:
        """Return a server TLS context with a certificate for hostnames (issued by this CA unless self-signed)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(tz=UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
        if expired:
            not_before, not_after = now - timedelta(days=10), now - timedelta(days=1)
        else:
            not_before, not_after = now - timedelta(hours=1), now + timedelta(days=days)
        issuer_name, signing_key = (subject, key) if self_signed else (self.name, self.key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in hostnames]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        certificate = builder.sign(signing_key, hashes.SHA256())
        stem = f"{hostnames[0]}-{x509.random_serial_number()}"
        cert_path = self.folder / f"{stem}.pem"
        key_path = self.folder / f"{stem}.key"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context


# --- A minimal HTTP/2 server (http.server speaks HTTP/1 only) ---


class H2Server:
    """Answer every HTTP/2 request with a fixed body over TLS (ALPN h2) and record the request headers."""

    def __init__(self, context: ssl.SSLContext, body: bytes = b"hello over h2") -> None:
        context.set_alpn_protocols(["h2"])
        self.context = context
        self.body = body
        self.requests: list[dict[str, str]] = []
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> H2Server:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        connection.initiate_connection()
        with tls, suppress(OSError):
            tls.sendall(connection.data_to_send())
            while data := tls.recv(65535):
                for event in connection.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        self.requests.append(dict(event.headers))
                        connection.send_headers(
                            event.stream_id,
                            [
                                (":status", "200"),
                                ("content-length", str(len(self.body))),
                                ("content-type", "text/plain"),
                            ],
                        )
                        connection.send_data(event.stream_id, self.body, end_stream=True)
                tls.sendall(connection.data_to_send())


# --- A DNS server on loopback, for the DNS TTL probe ---

DnsRecords = dict[tuple[str, str], list[tuple[str, int, str, str]]]


@contextmanager
def fake_dns_server(records: DnsRecords, *, silent: frozenset[str] = frozenset()) -> Iterator[int]:
    """Answer DNS over UDP on 127.0.0.1 from ``records`` ((name., type) → [(owner, ttl, type, value)]).

    Names not in the records get NXDOMAIN; names in ``silent`` get no answer at all. Yields the port.
    """
    import dns.message
    import dns.rcode
    import dns.rdatatype
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()
    known_names = {name for name, _kind in records}

    def answer() -> None:
        while not stop.is_set():
            try:
                data, client = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name, rdtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            if name in silent:
                continue
            response = dns.message.make_response(query)
            if name not in known_names:
                response.set_rcode(dns.rcode.NXDOMAIN)
            for owner, ttl, kind, value in records.get((name, rdtype), []):
                response.answer.append(dns.rrset.from_text(owner, ttl, "IN", kind, value))
            sock.sendto(response.to_wire(), client)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def resolver_on(port: int):
    """Return a dnspython resolver that asks only the fake server on 127.0.0.1:port."""
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    return resolver
