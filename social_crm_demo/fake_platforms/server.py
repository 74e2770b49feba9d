"""A threaded HTTP server bound to 127.0.0.1 that answers through a
``handle(request) -> Reply`` method and records every request it gets."""

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """What to answer. ``delay`` is waited before the status line. A body
    that is an iterable of bytes is sent chunked, without Content-Length; it
    may sleep between chunks, and raising ``ConnectionAbortedError`` cuts the
    connection mid-answer."""

    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def param(self, name, default=None):
        return self.query.get(name, [default])[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY each
    # keep-alive request waits ~40 ms for the client's delayed ACK
    disable_nagle_algorithm = True

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        self.server.owner.requests.append(request)
        reply = self.server.owner.handle(request)
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        chunked = not isinstance(body, (bytes, bytearray))
        if "Date" in reply.headers:  # a scripted clock, e.g. a server whose time is off
            self.send_response_only(reply.status)
        else:
            self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if chunked:
                for chunk in body:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            # the client gave up (a timeout or size cap test) or the reply
            # cuts the connection on purpose
            # close_connection belongs to BaseHTTPRequestHandler, set by handle()
            self.close_connection = True  # pylint: disable=attribute-defined-outside-init

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

    def log_message(self, *args):
        """Silence the default log on stderr."""


class LoopbackServer:
    """Start with ``with Server() as server:`` or ``start()`` / ``stop()``."""

    def __init__(self, port=0):
        self.port = port
        self.requests = []
        self._httpd = None
        self._thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def handle(self, request):
        raise NotImplementedError

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        # a short poll interval: stop() waits for one, once per test
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
