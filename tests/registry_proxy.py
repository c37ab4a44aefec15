"""A reverse proxy in front of the test registry: basic auth, and a registry that can vanish.

Apicurio enforces authentication only through an identity server; a registry behind a
basic-auth proxy is what many teams actually run, so this stands in for "a registry that
needs credentials".  Stopping the proxy closes its port, which a client sees exactly as
a registry process that went away (connection refused).

Threaded (one thread per request) so concurrent clients are served as a registry would.
"""

from __future__ import annotations

import base64
import hmac
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Headers that belong to one connection, not to the message being forwarded.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


class RegistryProxy:
    """Forward every request to ``upstream``; with credentials, only when they match."""

    def __init__(
        self, upstream: str, credentials: tuple[str, str] | None = None, port: int = 0
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self._target = (parts.hostname, parts.port or 80)
        self._path = parts.path.rstrip("/")
        self._expected: bytes | None = None
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            self._expected = f"Basic {token}".encode()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.requests = 0  # forwarded to the registry (answered 401s are not counted)
        self.refused = 0  # answered 401 here

    @property
    def url(self) -> str:
        """The proxied registry's URL: same path as upstream, the proxy's port."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self._path}"

    def start(self) -> RegistryProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="registry-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port: new connections are refused from now on."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> RegistryProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def _authorised(self, header: str | None) -> bool:
        if self._expected is None:
            return True
        return header is not None and hmac.compare_digest(header.encode(), self._expected)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._forward()

            do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

            def _forward(self) -> None:
                if not proxy._authorised(self.headers.get("Authorization")):
                    proxy._count("refused")
                    # The body Confluent's registry sends, so clients report it the same way.
                    challenge = ("WWW-Authenticate", 'Basic realm="schema-registry"')
                    self._answer(401, {"error_code": 401, "message": "Unauthorized"}, (challenge,))
                    return
                proxy._count("requests")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "authorization"
                }
                conn = http.client.HTTPConnection(*proxy._target, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError as exc:
                    self._answer(502, {"error_code": 502, "message": f"upstream: {exc}"})
                    return
                finally:
                    conn.close()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _answer(
                self, status: int, doc: dict[str, Any], extra: tuple[tuple[str, str], ...] = ()
            ) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a test's output is not the place for an access log

        return Handler
