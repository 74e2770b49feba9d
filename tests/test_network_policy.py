"""The network check under attack (issue 6): URLs that two parsers read
differently, resolvers that answer the check and the connection differently,
IPv6 addresses that embed a private IPv4, servers that trickle, and redirects
that would carry a request body to another host.

Every target is a listener on 127.0.0.1 that records what it receives;
"public" addresses are fake DNS answers that the test network routes to a
listener, so nothing leaves the machine."""

import json
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from channels import ConfigError, SourceSettings, Transport, UnavailableError, client_for
from fake_platforms.server import Reply

pytest_plugins = ["loopback_fixtures"]

SECRET = "app-pa55-w0rd-77x1"
PUBLIC = "93.184.215.14"
OTHER_PUBLIC = "93.184.215.15"


# ----------------------------------------------------------------------
# URLs the check and the connection read differently
# ----------------------------------------------------------------------


@pytest.mark.parametrize("allow_local", [False, True], ids=["public source", "local source"])
def test_a_backslash_url_is_refused_before_any_connection(network, site, allow_local):
    """urlsplit reads the host after the ``@`` (a public address); urllib3
    ends the authority at the backslash and connects to 127.0.0.1."""
    site.script("/feed", Reply(200, "<rss/>"))
    url = f"http://127.0.0.1:{site.port}\\@{PUBLIC}/feed"
    with pytest.raises(ConfigError, match=r"its host contains a backslash, a space or a control character"):
        Transport(allow_local=allow_local).request("GET", url)
    assert site.requests == []
    assert network.connects == []


@pytest.mark.parametrize(
    "authority",
    [
        pytest.param("127.0.0.1:{port} @" + PUBLIC, id="space"),
        pytest.param(PUBLIC + "\t@127.0.0.1:{port}", id="tab, which urlsplit drops"),
        pytest.param("127.0.0.1:{port}\n@" + PUBLIC, id="newline"),
        pytest.param("127.0.0.1:{port}\x00@" + PUBLIC, id="NUL"),
    ],
)
def test_whitespace_or_controls_in_the_host_are_refused(network, site, authority):
    url = f"http://{authority.format(port=site.port)}/feed"
    with pytest.raises(ConfigError, match=r"its host contains a backslash, a space or a control character"):
        Transport().request("GET", url)
    assert site.requests == [] and network.connects == []


def test_a_host_that_two_parsers_read_differently_is_refused(network, site):
    """``straße`` is ``strasse`` to the resolver the check used (IDNA 2003)
    but ``xn--strae-oqa`` to requests (IDNA 2008): two different hosts."""
    network.resolve("strasse.example", PUBLIC)
    network.resolve("xn--strae-oqa.example", "127.0.0.1")
    site.script("/feed", Reply(200, "internal"))
    with pytest.raises(ConfigError, match=r"its host is ambiguous \(read as 'strasse.example' and as 'xn--strae-oqa"):
        Transport().request("GET", f"http://straße.example:{site.port}/feed")
    assert site.requests == [] and network.connects == []


def test_a_backslash_comments_link_in_a_public_feed_reaches_nothing(network, site, other_site):
    """Anyone who writes a public feed chooses its ``wfw:commentRss`` links,
    which the pull then fetches: no Odoo rights needed for this one."""
    network.resolve("blog.example", PUBLIC)
    network.route(PUBLIC, site)
    internal = f"http://127.0.0.1:{other_site.port}\\@{PUBLIC}/admin"
    site.script(
        "/feed",
        Reply(
            200,
            '<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"><channel><title>Blog</title>'
            "<item><guid>https://blog.example/p/1</guid><title>Hello</title><description>hi</description>"
            f"<wfw:commentRss>{internal}</wfw:commentRss></item></channel></rss>",
        ),
    )
    other_site.script("/admin", Reply(200, "<rss><channel><item><title>secret</title></item></channel></rss>"))
    settings = SourceSettings(platform="feed", mode="feed", target="http://blog.example/feed")
    batches = list(client_for(settings).pull(None))
    assert [post.title for batch in batches for post in batch.posts] == ["Hello"]
    assert other_site.requests == []


# ----------------------------------------------------------------------
# DNS rebinding: the connection goes where the check looked
# ----------------------------------------------------------------------


def test_the_connection_goes_to_the_checked_address_with_one_lookup(network, site):
    network.resolve("blog.example", PUBLIC)
    network.route(PUBLIC, site)
    site.script("/feed", Reply(200, "<rss/>"))
    assert Transport().request("GET", "http://blog.example/feed").content == b"<rss/>"
    assert network.lookups == ["blog.example"]
    assert network.connects == [(PUBLIC, 80)]
    assert site.requests[0].headers["host"] == "blog.example"


def test_a_resolver_that_answers_twice_differently_never_reaches_the_second_answer(network, site, other_site):
    """The first answer (public) is checked; a second lookup, to connect,
    would get 127.0.0.1 and reach the internal service ``site``."""
    network.resolve("rebind.example", PUBLIC, "127.0.0.1")
    network.route(PUBLIC, other_site)
    other_site.script("/feed", Reply(200, "<rss/>"))
    site.script("/feed", Reply(200, "internal"))
    response = Transport().request("GET", f"http://rebind.example:{site.port}/feed")
    assert response.content == b"<rss/>"
    assert site.requests == []
    assert network.connects == [(PUBLIC, site.port)]


def test_each_redirect_hop_connects_to_the_address_checked_for_it(network, site, other_site):
    network.resolve("blog.example", PUBLIC)
    network.route(PUBLIC, other_site)
    network.resolve("cdn.example", OTHER_PUBLIC, "127.0.0.1")
    network.route(OTHER_PUBLIC, other_site)
    other_site.script("/feed", Reply(302, headers={"Location": f"http://cdn.example:{site.port}/moved"}))
    other_site.script("/moved", Reply(200, "<rss/>"))
    site.script("/moved", Reply(200, "internal"))
    assert Transport().request("GET", "http://blog.example/feed").content == b"<rss/>"
    assert site.requests == []
    assert network.connects == [(PUBLIC, 80), (OTHER_PUBLIC, site.port)]


def test_a_local_source_also_connects_to_the_address_it_looked_up(network, site, other_site):
    network.resolve("intranet.example", "127.0.0.1", "127.0.0.2")
    site.script("/feed", Reply(200, "<rss/>"))
    Transport(allow_local=True).request("GET", f"http://intranet.example:{site.port}/feed")
    assert network.connects == [("127.0.0.1", site.port)]


def test_no_proxy_resolves_the_host_behind_the_check(network, site, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", site.url)
    network.resolve("blog.example", PUBLIC)
    network.route(PUBLIC, site)
    site.script("/feed", Reply(200, "<rss/>"))
    transport = Transport()
    assert transport.request("GET", "http://blog.example/feed").content == b"<rss/>"
    assert network.connects == [(PUBLIC, 80)]
    transport.session.proxies = {"http": site.url}
    with pytest.raises(ConfigError, match="refused to send through a proxy"):
        transport.request("GET", "http://blog.example/feed")
    assert len(site.requests) == 1


# ----------------------------------------------------------------------
# IPv6 addresses that carry an IPv4 one
# ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("64:ff9b::7f00:1", id="NAT64 of 127.0.0.1"),
        pytest.param("64:ff9b::a9fe:a9fe", id="NAT64 of 169.254.169.254"),
        pytest.param("64:ff9b:1::a00:1", id="local-use NAT64"),
        pytest.param("2002:7f00:1::", id="6to4 of 127.0.0.1"),
        pytest.param("2002:c0a8:1::1", id="6to4 of 192.168.0.1"),
        pytest.param("2001:0:4136:e378:8000:63bf:80ff:fffe", id="Teredo, client 127.0.0.1"),
        pytest.param("::ffff:a00:1", id="IPv4-mapped 10.0.0.1"),
        pytest.param("::7f00:1", id="IPv4-compatible 127.0.0.1"),
    ],
)
def test_an_ipv6_address_embedding_a_private_ipv4_is_refused(network, address):
    network.resolve("embedded.example", address)
    with pytest.raises(ConfigError, match=f"resolves to the non-public address {address}; mark the source as local"):
        Transport().check_target("http://embedded.example/feed")
    assert network.connects == []


@pytest.mark.parametrize(
    "address", ["64:ff9b::5db8:d70e", "2002:5db8:d70e::", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
)
def test_an_ipv6_address_embedding_a_public_ipv4_is_public(network, address):
    network.resolve("embedded.example", address)
    assert Transport().check_target("http://embedded.example/feed") == (address,)


# ----------------------------------------------------------------------
# The overall deadline
# ----------------------------------------------------------------------


class Trickler:
    """A server on 127.0.0.1 that answers every request with ``head``, then
    one ``drop`` every ``pause`` seconds: never idle for a read timeout,
    never near a size cap. It stops after ``limit`` seconds so that code
    without a deadline fails this test instead of hanging it."""

    def __init__(self, head, drop, pause=0.3, limit=8):
        self.head, self.drop, self.pause, self.limit = head, drop, pause, limit
        self.sent = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _address = self._listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(self.head)
            stop = time.monotonic() + self.limit
            try:
                while time.monotonic() < stop:
                    time.sleep(self.pause)
                    conn.sendall(self.drop)
                    self.sent += len(self.drop)
            except OSError:
                return  # the client hung up: what the test expects

    def close(self):
        self._listener.close()


@pytest.mark.parametrize(
    "head, drop",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Padding: ", b"a", id="in the headers"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"x", id="in a body with a length"),
        pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"1\r\nx\r\n", id="in chunks"),
        pytest.param(b"HTTP/1.0 200 OK\r\n\r\n", b"x", id="in a body that ends when the connection does"),
    ],
)
def test_a_server_that_trickles_is_cut_off_at_the_deadline(head, drop):
    trickler = Trickler(head, drop)
    started = time.monotonic()
    try:
        with pytest.raises(UnavailableError, match=r"/feed did not finish within 2 seconds") as caught:
            Transport(allow_local=True, timeout=1, deadline=2).request("GET", f"http://127.0.0.1:{trickler.port}/feed")
    finally:
        trickler.close()
    assert 2 <= time.monotonic() - started < 3
    assert trickler.sent > 0
    assert caught.value.retryable


def test_the_deadline_spans_the_redirects(site):
    """Each hop is quick; together they are not."""
    site.script("/a", Reply(302, headers={"Location": "/b"}, delay=0.6))
    site.script("/b", Reply(302, headers={"Location": "/c"}, delay=0.6))
    site.script("/c", Reply(200, "<rss/>", delay=0.6))
    with pytest.raises(UnavailableError, match=r"/c did not finish within 1.5 seconds"):
        Transport(allow_local=True, timeout=1, deadline=1.5).request("GET", f"{site.url}/a")


def test_the_deadline_defaults_to_three_timeouts():
    assert Transport(timeout=20).deadline == 60


# ----------------------------------------------------------------------
# A request body stays on its origin
# ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 308, 302, 301])
def test_a_password_in_a_post_body_is_not_replayed_to_another_origin(site, other_site, status):
    """Bluesky's createSession posts the app password in its JSON body; a
    307 or 308 to another host asks for that body to be sent there."""
    site.script("/xrpc/com.atproto.server.createSession", Reply(status, headers={"Location": f"{other_site.url}/x"}))
    other_site.script("/x", Reply(200, "{}"))
    with pytest.raises(ConfigError, match=r"redirected a POST to another origin, http://127.0.0.1:\d+/x; refused") as e:
        Transport(allow_local=True).request(
            "POST",
            f"{site.url}/xrpc/com.atproto.server.createSession",
            headers={"Authorization": f"Bearer {SECRET}"},
            json_body={"identifier": "jo.example", "password": SECRET},
        )
    assert other_site.requests == []
    assert SECRET not in str(e.value)
    [sent] = site.requests
    assert json.loads(sent.body) == {"identifier": "jo.example", "password": SECRET}


def test_a_post_redirected_with_303_reaches_the_other_origin_without_its_body(site, other_site):
    site.script("/post", Reply(303, headers={"Location": f"{other_site.url}/done"}))
    other_site.script("/done", Reply(200, "ok"))
    response = Transport(allow_local=True).request(
        "POST", f"{site.url}/post", headers={"Authorization": f"Bearer {SECRET}"}, json_body={"password": SECRET}
    )
    assert response.content == b"ok"
    [sent] = other_site.requests
    assert (sent.method, sent.body, "authorization" in sent.headers) == ("GET", b"", False)


# ----------------------------------------------------------------------
# https: pinned to the address, verified against the name
# ----------------------------------------------------------------------


@pytest.fixture
def tls_site(site, tmp_path):
    """``site`` over TLS, with a self-signed certificate for ``public.example``
    only; ``site.tls_names`` records the server names clients ask for."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "public.example")])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("public.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    site.tls_names = []
    context.sni_callback = lambda _sock, server_name, _context: site.tls_names.append(server_name)
    # pylint: disable-next=protected-access  # the loopback server's own listening socket
    site._httpd.socket = context.wrap_socket(site._httpd.socket, server_side=True)
    site.ca_file = str(cert_file)
    return site


def test_https_connects_to_the_checked_address_and_verifies_the_name(network, tls_site):
    network.resolve("public.example", PUBLIC)
    network.resolve("other.example", PUBLIC)
    network.route(PUBLIC, tls_site)
    tls_site.script("/feed", Reply(200, "<rss/>"))
    transport = Transport()
    transport.session.verify = tls_site.ca_file
    assert transport.request("GET", "https://public.example/feed").content == b"<rss/>"
    assert (tls_site.tls_names, tls_site.requests[0].headers["host"]) == (["public.example"], "public.example")
    with pytest.raises(UnavailableError, match="could not connect to https://other.example/feed: SSLError"):
        transport.request("GET", "https://other.example/feed")
    assert network.connects == [(PUBLIC, 443), (PUBLIC, 443)]
