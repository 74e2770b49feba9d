"""The one HTTP method, against real servers on 127.0.0.1: what reaches the
network, what comes back, and the typed error a source would show."""

import json
import logging
import time
from datetime import datetime, timezone
from email.utils import formatdate

import pytest

from channels import (
    AuthError,
    ConfigError,
    InvalidDataError,
    NotFoundError,
    RateLimitedError,
    Transport,
    UnavailableError,
)
from channels.transport import safe_url, seconds_until
from fake_platforms.feed_site import FeedSite
from fake_platforms.server import Reply

pytest_plugins = ["loopback_fixtures"]

SECRET = "s3cr3t-t0ken-4f9a"
PUBLIC_HOST = "public.example"


@pytest.fixture
def local():
    return Transport(allow_local=True, timeout=2)


@pytest.fixture
def public(site, network):
    """A transport for a source not marked local, whose target is the public
    host ``public.example`` served by ``site``.

    The name resolves to a public address (a fake DNS answer: tests have no
    DNS) that the test network routes to ``site``, so the address check is
    the real one, the bytes really travel to the loopback server, and any
    hop the transport wrongly follows is recorded by ``site``."""
    network.resolve(PUBLIC_HOST, "93.184.215.14")
    network.route("93.184.215.14", site)
    return Transport(timeout=2)


def trickle(*chunks, pause=0.0):
    """A chunked body that waits ``pause`` seconds before each chunk but the first."""
    for n, chunk in enumerate(chunks):
        if n:
            time.sleep(pause)
        yield chunk


def cut_off():
    yield b"<rss><channel>"
    raise ConnectionAbortedError


def test_a_request_sends_params_and_json_and_reads_the_answer(site, local):
    site.script("/api", Reply(201, '{"id": 7}', headers={"X-Request-Id": "abc"}))
    response = local.request(
        "POST", f"{site.url}/api", params={"q": "tents"}, json_body={"text": "hi"}, expected=(201,)
    )
    assert (response.status, response.json(), response.header("X-REQUEST-ID")) == (201, {"id": 7}, "abc")
    [sent] = site.requests
    assert (sent.method, sent.param("q"), json.loads(sent.body)) == ("POST", "tents", {"text": "hi"})
    assert sent.headers["user-agent"] == "social_crm (Odoo)"


@pytest.mark.parametrize(
    "body, detail",
    [
        ('{"id": ', r"\(Expecting value at position 7\)"),
        (b'{"name": "Jo\xe9"}', r"\(not UTF-8 text\)"),
    ],
)
def test_malformed_json_is_invalid_data(site, local, body, detail):
    site.script("/api", Reply(200, body))
    response = local.request("GET", f"{site.url}/api")
    with pytest.raises(InvalidDataError, match=r"/api answered with malformed JSON " + detail):
        response.json()


def test_only_expected_statuses_and_304_are_answers(site, local):
    site.script("/created", Reply(201))
    site.script("/same", Reply(304))
    assert local.request("GET", f"{site.url}/same").status == 304
    with pytest.raises(InvalidDataError, match="unexpected HTTP 201"):
        local.request("POST", f"{site.url}/created")


@pytest.mark.parametrize(
    "reply, error, message, retry_after",
    [
        (Reply(401), AuthError, r"refused our credentials \(HTTP 401\); reconnect the source", None),
        (Reply(403), AuthError, r"refused our credentials \(HTTP 403\)", None),
        (Reply(404), NotFoundError, r"does not exist \(HTTP 404\)", None),
        (Reply(410), NotFoundError, r"does not exist \(HTTP 410\)", None),
        (Reply(500), UnavailableError, r"is failing \(HTTP 500\)", None),
        (Reply(503, headers={"Retry-After": "30"}), UnavailableError, r"is failing \(HTTP 503\)", 30),
        (Reply(429, headers={"Retry-After": "120"}), RateLimitedError, r"is rate limited \(HTTP 429\)", 120),
        (Reply(418), InvalidDataError, "answered with unexpected HTTP 418", None),
    ],
)
def test_http_failures_are_typed_errors_without_secrets(site, local, reply, error, message, retry_after):
    site.script("/api", reply)
    with pytest.raises(error, match=message) as caught:
        local.request("GET", f"{site.url}/api?access_token={SECRET}", headers={"Authorization": f"Bearer {SECRET}"})
    assert caught.value.retry_after == retry_after
    assert caught.value.retryable is (error in (UnavailableError, RateLimitedError))
    assert str(caught.value).startswith(f"{site.url}/api?access_token=***")
    assert SECRET not in str(caught.value)


def test_a_rate_limit_reset_time_becomes_the_wait(site, local):
    site.script("/api", Reply(429, headers={"X-RateLimit-Reset": str(int(time.time()) + 90)}))
    with pytest.raises(RateLimitedError) as caught:
        local.request("GET", f"{site.url}/api")
    assert 88 <= caught.value.retry_after <= 90


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(lambda: Reply(200, "<rss/>", delay=1), id="before the headers"),
        pytest.param(lambda: Reply(200, trickle(b"<rss>", b"</rss>", pause=1)), id="in the body"),
    ],
)
def test_a_server_slower_than_the_timeout_is_unavailable(site, reply):
    site.script("/slow", reply())
    started = time.monotonic()
    with pytest.raises(UnavailableError, match=r"/slow did not answer within 0.2 seconds") as caught:
        Transport(allow_local=True, timeout=0.2).request("GET", f"{site.url}/slow")
    assert time.monotonic() - started < 0.8
    assert caught.value.retryable


def test_an_answer_cut_off_midway_is_unavailable(site, local):
    site.script("/feed", Reply(200, cut_off()))
    with pytest.raises(UnavailableError, match="/feed broke off its answer"):
        local.request("GET", f"{site.url}/feed")


def test_a_host_that_refuses_connections_is_unavailable(local):
    with FeedSite() as gone:
        url = f"{gone.url}/feed"
    with pytest.raises(UnavailableError, match=f"could not connect to {url}: ConnectionError"):
        local.request("GET", url)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda: b"x" * 100_000, id="with Content-Length"),
        pytest.param(lambda: (b"x" * 16_384 for _ in range(1280)), id="chunked, 20 MiB"),
    ],
)
def test_a_body_over_the_size_cap_is_refused(site, body):
    site.script("/big", Reply(200, body()))
    site.script("/just-fits", Reply(200, trickle(b"x" * 60_000, b"x" * 5_536)))
    transport = Transport(allow_local=True, max_bytes=64 * 1024)
    with pytest.raises(InvalidDataError, match=r"/big sent more than 64 KiB; refused"):
        transport.request("GET", f"{site.url}/big")
    assert len(transport.request("GET", f"{site.url}/just-fits").content) == 64 * 1024


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://files.example/feed.xml",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "feeds.example/rss.xml",
        "http:///feed",
    ],
)
def test_only_http_and_https_urls_are_pulled(url):
    with pytest.raises(ConfigError, match="only http and https URLs can be pulled") as caught:
        Transport(allow_local=True).request("GET", url)
    assert "root:" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://[::1/feed", "http://127.0.0.1:99999/feed"])
def test_a_malformed_url_is_a_config_error(url):
    with pytest.raises(ConfigError, match="it is malformed"):
        Transport(allow_local=True).request("GET", url)


@pytest.mark.parametrize(
    "host, address",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
        ("[::1]", "::1"),
        ("10.1.2.3", "10.1.2.3"),
        ("172.16.5.4", "172.16.5.4"),
        ("192.168.0.10", "192.168.0.10"),
        ("169.254.169.254", "169.254.169.254"),
        ("100.64.0.1", "100.64.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("[fd00::1]", "fd00::1"),
    ],
)
def test_private_and_loopback_targets_are_refused(site, host, address):
    with pytest.raises(ConfigError, match=f"resolves to the non-public address {address}; mark the source as local"):
        Transport().request("GET", f"http://{host}:{site.port}/feed")
    assert site.requests == []


def test_a_source_marked_local_reaches_the_loopback_server(site):
    site.script("/feed", Reply(200, "<rss/>"))
    assert Transport(allow_local=True).request("GET", f"{site.url}/feed").content == b"<rss/>"


def test_a_public_host_is_reached(site, public):
    site.script("/feed", Reply(200, "<rss/>"))
    assert public.request("GET", f"http://{PUBLIC_HOST}/feed").content == b"<rss/>"
    assert site.requests[0].headers["host"] == PUBLIC_HOST


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1/admin",
        "http://localhost:8069/web",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/feed",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_a_private_target_is_refused_on_the_hop(site, public, location):
    site.script("/feed", Reply(302, headers={"Location": location}))
    with pytest.raises(ConfigError, match="non-public address|only http and https"):
        public.request("GET", f"http://{PUBLIC_HOST}/feed")
    assert [request.path for request in site.requests] == ["/feed"]


def test_an_unknown_host_is_unavailable(public):
    with pytest.raises(UnavailableError, match="cannot resolve host 'blog.invalid'"):
        public.request("GET", "http://blog.invalid/feed")


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"headers": {"Authorization": f"Bearer {SECRET}"}}, id="header"),
        pytest.param({"auth": ("jo", SECRET)}, id="auth object"),
    ],
)
def test_credentials_follow_a_redirect_on_the_same_origin_only(site, other_site, local, credentials):
    site.script("/a", Reply(301, headers={"Location": "/b"}))
    site.script("/b", Reply(302, headers={"Location": f"{other_site.url}/c"}))
    other_site.script("/c", Reply(200, "done"))
    assert local.request("GET", f"{site.url}/a", **credentials).content == b"done"
    assert ["authorization" in request.headers for request in site.requests + other_site.requests] == [
        True,
        True,
        False,
    ]


@pytest.mark.parametrize("status, method, body", [(303, "GET", b""), (307, "POST", b'{"text": "hi"}')])
def test_a_redirected_post_is_replayed_or_turned_into_a_get(site, local, status, method, body):
    site.script("/post", Reply(status, headers={"Location": "/result"}))
    site.script("/result", Reply(200, "ok"))
    local.request("POST", f"{site.url}/post", json_body={"text": "hi"})
    assert (site.requests[1].path, site.requests[1].method, site.requests[1].body) == ("/result", method, body)


def test_a_redirect_loop_is_cut(site, local):
    site.script("/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(UnavailableError, match="/loop redirected more than 5 times"):
        local.request("GET", f"{site.url}/loop")
    assert len(site.requests) == 6


def test_logs_name_the_urls_but_no_secret(site, local, caplog):
    caplog.set_level(logging.DEBUG)
    site.script("/feed", Reply(302, headers={"Location": f"/moved?api_key={SECRET}&page=2"}))
    site.script("/moved", Reply(401))
    with pytest.raises(AuthError) as caught:
        local.request("GET", f"{site.url}/feed?access_token={SECRET}", headers={"Authorization": f"Bearer {SECRET}"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/feed?access_token=***" in logged and "/moved?api_key=***&page=2" in logged
    assert SECRET not in logged and SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://api.example/feed?access_token=abc&page=2", "https://api.example/feed?access_token=***&page=2"),
        (
            "https://api.example/x?api_key=a&client_secret=b&password=c&sig=d&q=tents",
            "https://api.example/x?api_key=***&client_secret=***&password=***&sig=***&q=tents",
        ),
        ("https://jo:hunter2@intranet.example/feed#top", "https://jo:***@intranet.example/feed"),
        ("https://intranet.example/feed?q=tents+and+tarps", "https://intranet.example/feed?q=tents+and+tarps"),
        ("http://[::1/feed", "(malformed URL)"),
    ],
)
def test_safe_url_masks_secrets(url, shown):
    assert safe_url(url) == shown


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def local_time_is_not_utc(monkeypatch):
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_is_not_utc")
@pytest.mark.parametrize(
    "value, seconds",
    [
        ("120", 120),
        (" 7 ", 7),
        ("-5", 0),
        ("2.5", 2),
        (str(int(NOW) + 90), 90),
        (str(int(NOW) - 90), 0),
        ("Fri, 20 Nov 2026 12:01:30 GMT", 90),
        ("Fri, 20 Nov 2026 12:01:30 -0000", 90),
        ("2026-11-20T12:02:00Z", 120),
        ("2026-11-20T14:02:00+02:00", 120),
        ("2026-11-20T12:02:00", 120),
        ("2026-11-20T11:00:00Z", 0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_seconds_until_reads_delays_unix_times_and_dates(value, seconds):
    assert seconds_until(value, now=NOW) == seconds


def test_waits_are_measured_on_the_server_clock(site):
    """A platform whose clock is an hour ahead of ours asks for 60 seconds,
    not an hour and a minute."""
    server_now = time.time() + 3600
    site.script(
        "/skewed",
        Reply(
            429,
            "slow down",
            headers={"Date": formatdate(server_now, usegmt=True), "X-RateLimit-Reset": str(int(server_now + 60))},
        ),
    )
    with pytest.raises(RateLimitedError) as caught:
        Transport(allow_local=True).request("GET", f"{site.url}/skewed")
    assert 58 <= caught.value.retry_after <= 60
