"""The one way a channel client talks HTTP.

Every call has a timeout, refuses schemes other than http(s), refuses private,
loopback and link-local targets unless the source is explicitly marked local
(checked again on every redirect), caps the size of what it reads, and never
logs a header or a secret query parameter.
"""

import ipaddress
import json
import logging
import math
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from .errors import (
    AuthError,
    ConfigError,
    InvalidDataError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)

_logger = logging.getLogger(__name__)

# one number, not a (connect, read) pair: Odoo's test harness compares it to an int
DEFAULT_TIMEOUT = 20
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
SECRET_PARAM_MARKERS = ("token", "key", "secret", "password", "sig", "auth")


def safe_url(url):
    """``url`` with its password and the values of secret-looking query
    parameters masked, fit for a log line or an error message."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username}:***@{netloc.rsplit('@', 1)[1]}"
    except ValueError:
        return "(malformed URL)"
    query = [
        (name, "***" if any(m in name.lower() for m in SECRET_PARAM_MARKERS) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*"), fragment=""))


def seconds_until(value, now=None):
    """Seconds to wait from a ``Retry-After`` or rate-limit reset header value:
    a number of seconds, a Unix time, an HTTP date or an ISO 8601 date."""
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
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        # HTTP dates are in GMT; a date without an offset is not local time
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0, int(moment.timestamp() - now))


class _MaskSecretParams(logging.Filter):
    """urllib3 logs each request line, query string included, at DEBUG."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(safe_url(arg) if isinstance(arg, str) and "?" in arg else arg for arg in record.args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskSecretParams())


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
        try:
            now = parsedate_to_datetime(self.header("date")).timestamp()
        except (TypeError, ValueError, IndexError):
            now = None
        return seconds_until(value, now=now)

    def json(self):
        try:
            return json.loads(self.content)
        except json.JSONDecodeError as exc:
            detail = f"{exc.msg} at position {exc.pos}"
        except UnicodeDecodeError:
            detail = "not UTF-8 text"
        raise InvalidDataError(f"{safe_url(self.url)} answered with malformed JSON ({detail})")


class Transport:
    """HTTP for one source: its network policy, timeout and size cap."""

    def __init__(
        self, allow_local=False, timeout=DEFAULT_TIMEOUT, max_bytes=DEFAULT_MAX_BYTES, user_agent="social_crm (Odoo)"
    ):
        self.allow_local = allow_local
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent

    def request(self, method, url, *, params=None, headers=None, json_body=None, data=None, auth=None, expected=(200,)):
        """Send one request, following redirects by hand so that each hop is
        checked. ``auth`` is a ``requests`` auth object (OAuth 1.0a signing)
        for this host only. Maps failures to typed :mod:`errors`; returns
        :class:`Response` for statuses in ``expected`` and 304."""
        for _hop in range(MAX_REDIRECTS + 1):
            self.check_target(url)
            _logger.debug("%s %s", method, safe_url(url))
            response = self._send(method, url, params=params, headers=headers, json=json_body, data=data, auth=auth)
            if response.status in (301, 302, 303, 307, 308) and response.header("location"):
                try:
                    target = urljoin(url, response.header("location"))
                    other_origin = urlsplit(target)[:2] != urlsplit(url)[:2]
                except ValueError:
                    raise InvalidDataError(f"{safe_url(url)} redirected to a malformed URL") from None
                if other_origin:
                    # never hand our credentials to another host, nor send them in clear
                    headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
                    auth = None
                url, params = target, None
                if response.status == 303:
                    method, json_body, data = "GET", None, None
                continue
            return self._check_status(response, expected)
        raise UnavailableError(f"{safe_url(url)} redirected more than {MAX_REDIRECTS} times")

    def _send(self, method, url, **kwargs):
        try:
            raw = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs)
        except requests.Timeout:
            raise UnavailableError(self._timed_out(url)) from None
        except requests.RequestException as exc:
            raise UnavailableError(f"could not connect to {safe_url(url)}: {type(exc).__name__}") from None
        try:
            content = self._read_capped(raw, url)
        except requests.RequestException as exc:
            # requests reports a body that stalls as a ConnectionError
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                raise UnavailableError(self._timed_out(url)) from None
            raise UnavailableError(f"{safe_url(url)} broke off its answer: {type(exc).__name__}") from None
        finally:
            raw.close()
        return Response(
            status=raw.status_code, url=url, content=content, headers={k.lower(): v for k, v in raw.headers.items()}
        )

    def check_target(self, url):
        """Refuse what a source may not reach: other schemes, and private
        networks unless the source is marked local."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ConfigError(f"refused URL {safe_url(url)!r}: it is malformed (host or port)") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"refused URL {safe_url(url)!r}: only http and https URLs can be pulled")
        if self.allow_local:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise UnavailableError(f"cannot resolve host {parts.hostname!r}") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not address.is_global:
                raise ConfigError(
                    f"refused {parts.hostname!r}: it resolves to the non-public address {address}; "
                    "mark the source as local to pull from a private network"
                )

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

    def _timed_out(self, url):
        timeout = self.timeout if isinstance(self.timeout, tuple) else (self.timeout,)
        return f"{safe_url(url)} did not answer within {max(timeout)} seconds"

    @staticmethod
    def _check_status(response, expected):
        status, where = response.status, safe_url(response.url)
        if status in expected or status == 304:
            return response
        if status in (401, 403):
            raise AuthError(f"{where} refused our credentials (HTTP {status}); reconnect the source")
        if status in (404, 410):
            raise NotFoundError(f"{where} does not exist (HTTP {status})")
        if status == 429:
            wait = response.seconds_until(response.header("retry-after")) or response.seconds_until(
                response.header("x-ratelimit-reset")
                or response.header("x-rate-limit-reset")
                or response.header("ratelimit-reset")
            )
            raise RateLimitedError(f"{where} is rate limited (HTTP 429)", retry_after=wait)
        if status >= 500:
            raise UnavailableError(
                f"{where} is failing (HTTP {status})",
                retry_after=response.seconds_until(response.header("retry-after")),
            )
        raise InvalidDataError(f"{where} answered with unexpected HTTP {status}")
