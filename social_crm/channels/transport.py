"""The one way a channel client talks HTTP.

Every call has a timeout and an overall deadline, refuses schemes other than
http(s), refuses private, loopback and link-local targets unless the source is
explicitly marked local (checked again on every redirect), connects to the
very address it checked, caps the size of what it reads, and never logs a
header or a secret query parameter.
"""

import contextlib
import contextvars
import ipaddress
import json
import logging
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timezone
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError, ReadTimeoutError
from urllib3.util import connection, parse_url

from .errors import (
    AuthError,
    ConfigError,
    InvalidDataError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from .values import parse_date, safe_url, text

_logger = logging.getLogger(__name__)

# one number, not a (connect, read) pair: Odoo's test harness compares it to an int
DEFAULT_TIMEOUT = 20
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
#: the wall-clock budget of a request, redirects and body included, in timeouts
DEADLINE_TIMEOUTS = 3
MAX_REDIRECTS = 5
#: how much of a platform's own error text an error message quotes
ANSWER_TEXT_MAX = 200
#: a word that may be a key, a token or a JWT the platform echoed: long, letters and digits
_SECRET_WORD = re.compile(r"(?=[\w\-.~+/=]*\d)(?=[\w\-.~+/=]*[A-Za-z])[\w\-.~+/=]{20,}")


def seconds_until(value, now=None):
    """Seconds to wait from a ``Retry-After`` or rate-limit reset header value:
    a number of seconds, a Unix time, an HTTP date or an ISO 8601 date (one
    without an offset is UTC, as HTTP dates are)."""
    if not value:
        return None
    now = time.time() if now is None else now
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number):
            return None
        # Reset headers carry a Unix time; Retry-After a delay in seconds.
        return max(0, int(number - now)) if number > 1e9 else max(0, int(number))
    moment = parse_date(value)
    if moment is None:
        return None
    return max(0, int(moment.replace(tzinfo=timezone.utc).timestamp() - now))


class _MaskSecretParams(logging.Filter):
    """urllib3 logs each request line, query string included, at DEBUG."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(safe_url(arg) if isinstance(arg, str) and "?" in arg else arg for arg in record.args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskSecretParams())


# ----------------------------------------------------------------------
# Where a request may go
# ----------------------------------------------------------------------

#: IPv6 ranges that carry an IPv4 address in their last 32 bits and reach it:
#: IPv4-compatible (deprecated, still routed by some stacks) and NAT64
_IPV4_SUFFIX_NETWORKS = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))
#: NAT64 for a site's own network (RFC 8215): never public, wherever the IPv4 sits
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
#: what urlsplit keeps in a host but urllib3 treats otherwise (a backslash ends
#: its authority) or a resolver may read differently: whitespace and controls
_UNSAFE_IN_AUTHORITY = re.compile(r"[\\\s\x00-\x1f\x7f]")
#: scheme and authority as urlsplit delimits them, the widest reading
_SCHEME_AND_AUTHORITY = re.compile(r"[^/?#]*(?://[^/?#]*)?")


def _embedded_ipv4(address):
    """The IPv4 addresses an IPv6 address stands for: packets to it end up
    there (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo server and
    client), so they are judged too."""
    if address.version == 4:
        return ()
    embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if any(address in network for network in _IPV4_SUFFIX_NETWORKS):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return tuple(ip for ip in embedded if ip is not None)


def is_public_address(address):
    """Whether a source not marked local may connect to ``address``: a global
    unicast address that embeds no private one."""
    if address.is_multicast or (address.version == 6 and address in _LOCAL_NAT64):
        return False
    embedded = _embedded_ipv4(address)
    if embedded:
        # where the packets end up decides, not how this Python's table
        # (which changed within 3.11) ranks the IPv6 range that carries them
        return all(ip.is_global and not ip.is_multicast for ip in embedded)
    return address.is_global


def _normal_host(host):
    """A host as both parsers should agree on it: lower case, IPv6 without
    brackets, an international name in its ASCII (IDNA) form."""
    host = host.strip("[]").lower()
    return host if host.isascii() else host.encode("idna").decode("ascii")


def connection_target(url):
    """``(host, port)`` that urllib3, which makes the connection, reads in
    ``url``. A URL that :func:`urllib.parse.urlsplit` (used for the origin of
    a redirect, and by the clients) reads otherwise is refused: a check made
    on one reading would let the connection go to the other."""
    refused = f"refused URL {safe_url(url)!r}"
    if _UNSAFE_IN_AUTHORITY.search(_SCHEME_AND_AUTHORITY.match(url).group()):
        raise ConfigError(f"{refused}: its host contains a backslash, a space or a control character")
    try:
        parts, parsed = urlsplit(url), parse_url(url)
        port = parts.port
        theirs = (_normal_host(parsed.host or ""), parsed.port)
        ours = (_normal_host(parts.hostname or ""), port)
    except (ValueError, LocationParseError, UnicodeError):
        raise ConfigError(f"{refused}: it is malformed (host or port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{refused}: only http and https URLs can be pulled")
    if theirs != ours or (parsed.scheme or "").lower() != parts.scheme:
        raise ConfigError(f"{refused}: its host is ambiguous (read as {ours[0]!r} and as {theirs[0]!r})")
    return ours[0], port or (443 if parts.scheme == "https" else 80)


# ----------------------------------------------------------------------
# Connections pinned to the checked address, under a deadline
# ----------------------------------------------------------------------


class _Deadline:
    """The wall-clock budget of one request, redirects included.

    The timeout bounds each wait for a byte, so a server that sends one byte
    a little faster than that would hold the request (and the cron worker)
    for as long as it likes. When the budget runs out, the sockets of the
    request are shut down, which wakes any read blocked on them, in the
    headers, the body or a TLS handshake alike."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched = []
        self._adopted = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self):
        return self._ends_at - time.monotonic()

    @property
    def expired(self):
        return self.remaining() <= 0

    def watch(self, handle):
        """Shut the socket ``handle`` down when the budget runs out (now, if it has)."""
        with self._lock:
            self._watched.append(handle)
        if self.expired:
            _shut_down(handle)

    def adopt(self, handle):
        """Close ``handle`` once the request is over: its connection is
        closed, but the response may still be reading from the socket."""
        with self._lock:
            self._adopted.append(handle)

    def end(self):
        self._timer.cancel()
        with self._lock:
            adopted, self._adopted = self._adopted, []
        for handle in adopted:
            handle.close()

    def _expire(self):
        with self._lock:
            watched = list(self._watched)
        for handle in watched:
            _shut_down(handle)


def _shut_down(handle):
    """Shut a socket down, from any thread: a read blocked on it returns."""
    with contextlib.suppress(OSError):  # closed meanwhile, by its peer or by us
        handle.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class _Hop:
    """One request as the connections it opens must see it: the addresses
    that were checked for its host, and its deadline."""

    addresses: tuple
    deadline: _Deadline


#: the hop this thread is sending; a connection opened outside one is refused
_HOP = contextvars.ContextVar("social_crm_transport_hop")


class _PinnedConnectionMixin:
    """A connection that connects to the checked addresses of the current
    hop instead of resolving the host again (a resolver may answer a public
    address to the check, then a private one). The host name still gives the
    ``Host`` header, the TLS server name and the name the certificate must
    match, since urllib3 reads them from ``self.host``."""

    def __init__(self, *args, **kwargs):
        #: a second descriptor of the socket, for the deadline to shut it
        #: down even while TLS wraps, or has replaced, the original
        self.abort_handle = None
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        hop = _HOP.get(None)
        if hop is None:
            raise NewConnectionError(self, "refused to connect: no address was checked for this host")
        options = {"source_address": self.source_address, "socket_options": self.socket_options}
        error = None
        for address in hop.addresses:
            try:
                sock = connection.create_connection((address, self.port), self.timeout, **options)
            except socket.timeout:
                error = ConnectTimeoutError(self, f"connection to {self.host} timed out (timeout={self.timeout})")
            except OSError as exc:
                error = NewConnectionError(self, f"failed to establish a new connection: {exc}")
            else:
                self.abort_handle = sock.dup()
                hop.deadline.watch(self.abort_handle)
                return sock
        raise error

    def close(self):
        handle, self.abort_handle = self.abort_handle, None
        hop = _HOP.get(None)
        if handle is not None and hop is not None:
            hop.deadline.adopt(handle)
        elif handle is not None:
            handle.close()
        return super().close()


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _WatchedPoolMixin:
    """A pool whose connections, new or kept alive, are put under the
    deadline of the hop that takes them."""

    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout)
        hop = _HOP.get(None)
        if hop is not None and conn.abort_handle is not None:  # a new one is watched once connected
            hop.deadline.watch(conn.abort_handle)
        return conn


class _PinnedHTTPPool(_WatchedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(_WatchedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    """``requests`` over pinned, watched connections."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        """No proxy: it would resolve the host itself, beyond the address check."""
        raise ConfigError("refused to send through a proxy: it would connect to addresses nobody checked")


def _first_text(*candidates):
    return next((value.strip() for value in candidates if isinstance(value, str) and value.strip()), "")


def _masked_word(word):
    if word.startswith(("http://", "https://")):
        return safe_url(word)
    return "***" if _SECRET_WORD.fullmatch(word) else word


def platform_says(payload, secrets=()):
    """What a platform's JSON error body says went wrong, on one line: a
    Mastodon ``error`` (and OAuth ``error_description``), an X problem+json
    ``title`` and ``detail`` (or an ``errors`` array), a Bluesky XRPC
    ``error`` and ``message``. URLs are masked as in logs; ``secrets`` (what
    we sent) and words that look like keys or tokens become ``***``; the
    text is capped. ``""`` when the body says nothing readable."""
    if not isinstance(payload, dict):
        return ""
    errors = payload.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    name = _first_text(payload.get("error"), payload.get("title"), first.get("title"))
    detail = _first_text(
        payload.get("error_description"),
        payload.get("detail"),
        payload.get("message"),
        first.get("detail"),
        first.get("message"),
    )
    said = f"{name}: {detail}" if name and detail and name.lower() not in detail.lower() else detail or name
    said = text(said)
    for secret in filter(None, secrets):
        said = said.replace(secret, "***")
    said = " ".join(_masked_word(word) for word in said.split())
    return said if len(said) <= ANSWER_TEXT_MAX else said[: ANSWER_TEXT_MAX - 1] + "…"


def answer_text(response, secrets=()):
    """:func:`platform_says` of the body of ``response``, if JSON."""
    try:
        return platform_says(json.loads(response.content), secrets)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return ""


@dataclass(frozen=True)
class Response:
    """What the transport read: status, headers (case-insensitive), body."""

    status: int
    url: str
    content: bytes = b""
    headers: dict = field(default_factory=dict)

    def header(self, name, default=""):
        return self.headers.get(name.lower(), default)

    def seconds_until(self, value):
        """:func:`seconds_until` measured on the server's clock (its ``Date``
        header), so that a skewed local clock does not skew the wait."""
        server_now = parse_date(self.header("date"))
        return seconds_until(value, now=server_now.replace(tzinfo=timezone.utc).timestamp() if server_now else None)

    def quota_wait(self, remaining, reset, window, low=0):
        """Seconds until the platform's quota renews once this response says
        that at most ``low`` calls are left (header ``remaining``): from the
        ``reset`` header, else a whole ``window``. None while calls are left
        or when the platform does not say."""
        left = self.header(remaining).strip()
        if not left.isdigit() or int(left) > low:
            return None
        wait = self.seconds_until(self.header(reset))
        return window if wait is None else wait

    def json(self):
        try:
            return json.loads(self.content)
        except json.JSONDecodeError as exc:
            detail = f"{exc.msg} at position {exc.pos}"
        except UnicodeDecodeError:
            detail = "not UTF-8 text"
        raise InvalidDataError(f"{safe_url(self.url)} answered with malformed JSON ({detail})")


class Transport:
    """HTTP for one source: its network policy, timeout, deadline and size cap.

    Proxies and ``.netrc`` credentials from the environment are ignored: a
    proxy would resolve the host again, beyond the address check."""

    def __init__(
        self,
        allow_local=False,
        timeout=DEFAULT_TIMEOUT,
        max_bytes=DEFAULT_MAX_BYTES,
        user_agent="social_crm (Odoo)",
        deadline=None,
    ):
        self.allow_local = allow_local
        self.timeout = timeout
        self.deadline = deadline or DEADLINE_TIMEOUTS * max(timeout if isinstance(timeout, tuple) else (timeout,))
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["User-Agent"] = user_agent
        adapter = _PinnedAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method, url, *, params=None, headers=None, json_body=None, data=None, auth=None, expected=(200,)):
        """Send one request, following redirects by hand so that each hop is
        checked, all within :attr:`deadline` seconds. ``auth`` is a
        ``requests`` auth object (OAuth 1.0a signing) for this host only.
        Maps failures to typed :mod:`errors`; returns :class:`Response` for
        statuses in ``expected`` and 304."""
        deadline = _Deadline(self.deadline)
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                hop = _Hop(self.check_target(url), deadline)
                _logger.debug("%s %s", method, safe_url(url))
                response = self._send(
                    hop, method, url, params=params, headers=headers, json=json_body, data=data, auth=auth
                )
                if response.status in (301, 302, 303, 307, 308) and response.header("location"):
                    target, other_origin = self._redirect_target(url, response.header("location"))
                    if response.status == 303:
                        method, json_body, data = "GET", None, None
                    if other_origin:
                        self._check_body_stays(method, url, target, json_body, data)
                        # never hand our credentials to another host, nor send them in clear
                        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
                        auth = None
                    url, params = target, None
                    continue
                sent = [value.split()[-1] for name, value in (headers or {}).items() if name.lower() == "authorization"]
                return self._check_status(response, expected, sent)
        finally:
            deadline.end()
        raise UnavailableError(f"{safe_url(url)} redirected more than {MAX_REDIRECTS} times")

    @staticmethod
    def _redirect_target(url, location):
        """The absolute URL a redirect points to, and whether it leaves the origin of ``url``."""
        try:
            target = urljoin(url, location)
            return target, urlsplit(target)[:2] != urlsplit(url)[:2]
        except ValueError:
            raise InvalidDataError(f"{safe_url(url)} redirected to a malformed URL") from None

    @staticmethod
    def _check_body_stays(method, url, target, json_body, data):
        """A request body stays on its origin, like the Authorization header:
        it may hold a password (Bluesky's createSession), and a 307 or 308
        asks to send it again to wherever the server says."""
        if json_body is not None or data is not None:
            raise ConfigError(
                f"{safe_url(url)} redirected a {method} to another origin, {safe_url(target)}; "
                "refused to send its body there. Set the source's address to the new one if you trust it"
            )

    def _send(self, hop, method, url, **kwargs):
        """Send one hop, its connections pinned to ``hop.addresses``."""
        token = _HOP.set(hop)
        try:
            return self._send_pinned(hop, method, url, timeout=self._hop_timeout(hop, url), **kwargs)
        finally:
            _HOP.reset(token)

    def _hop_timeout(self, hop, url):
        """The timeout, shortened to what is left of the deadline."""
        remaining = hop.deadline.remaining()
        if remaining <= 0:
            raise UnavailableError(self._past_deadline(url))
        if isinstance(self.timeout, tuple):
            return tuple(min(part, remaining) for part in self.timeout)
        return min(self.timeout, remaining)

    def _send_pinned(self, hop, method, url, timeout, **kwargs):
        try:
            raw = self.session.request(method, url, timeout=timeout, allow_redirects=False, stream=True, **kwargs)
        except requests.Timeout:
            raise UnavailableError(self._past_deadline(url) if hop.deadline.expired else self._timed_out(url)) from None
        except requests.RequestException as exc:
            if hop.deadline.expired:
                raise UnavailableError(self._past_deadline(url)) from None
            raise UnavailableError(f"could not connect to {safe_url(url)}: {type(exc).__name__}") from None
        try:
            content = self._read_capped(raw, url)
        except requests.RequestException as exc:
            if hop.deadline.expired:
                raise UnavailableError(self._past_deadline(url)) from None
            # requests reports a body that stalls as a ConnectionError
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                raise UnavailableError(self._timed_out(url)) from None
            raise UnavailableError(f"{safe_url(url)} broke off its answer: {type(exc).__name__}") from None
        finally:
            raw.close()
        if hop.deadline.expired:  # cut off at the deadline, the body may look complete
            raise UnavailableError(self._past_deadline(url))
        return Response(
            status=raw.status_code, url=url, content=content, headers={k.lower(): v for k, v in raw.headers.items()}
        )

    def check_target(self, url):
        """The addresses a request to ``url`` may connect to, which it will
        then use, so that no second lookup can answer otherwise. Refuses
        other schemes, URLs whose host two parsers read differently, and
        private networks unless the source is marked local."""
        host, port = connection_target(url)
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise UnavailableError(f"cannot resolve host {host!r}") from None
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
        for address in addresses:
            if not self.allow_local and not is_public_address(address):
                raise ConfigError(
                    f"refused {host!r}: it resolves to the non-public address {address}; "
                    "mark the source as local to pull from a private network"
                )
        return tuple(str(address) for address in addresses)

    def _read_capped(self, raw, url):
        declared = raw.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise InvalidDataError(self._too_large(url))
        chunks, size = [], 0
        for chunk in raw.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise InvalidDataError(self._too_large(url))
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url):
        size = f"{self.max_bytes // 1024} KiB" if self.max_bytes >= 1024 else f"{self.max_bytes} bytes"
        return f"{safe_url(url)} sent more than {size}; refused"

    def _past_deadline(self, url):
        return f"{safe_url(url)} did not finish within {self.deadline:g} seconds"

    def _timed_out(self, url):
        timeout = self.timeout if isinstance(self.timeout, tuple) else (self.timeout,)
        return f"{safe_url(url)} did not answer within {max(timeout)} seconds"

    @staticmethod
    def _check_status(response, expected, secrets=()):
        """``response`` if its status is expected, else the typed error it
        means, quoting what the platform said (``secrets`` masked)."""
        status, where = response.status, safe_url(response.url)
        if status in expected or status == 304:
            return response
        said = answer_text(response, secrets)
        answer = f"HTTP {status}: {said}" if said else f"HTTP {status}"
        if status in (401, 403):
            raise AuthError(
                f"{where} refused our credentials ({answer}); reconnect the source", refusal=(where, status, answer)
            )
        if status in (404, 410):
            raise NotFoundError(f"{where} does not exist ({answer})")
        if status == 429:
            wait = response.seconds_until(response.header("retry-after")) or response.seconds_until(
                response.header("x-ratelimit-reset")
                or response.header("x-rate-limit-reset")
                or response.header("ratelimit-reset")
            )
            raise RateLimitedError(f"{where} is rate limited ({answer})", retry_after=wait)
        if status >= 500:
            raise UnavailableError(
                f"{where} is failing ({answer})",
                retry_after=response.seconds_until(response.header("retry-after")),
            )
        raise InvalidDataError(f"{where} answered with unexpected {answer}")
