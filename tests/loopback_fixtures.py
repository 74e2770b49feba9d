"""Fixtures shared by the channel tests, loaded with ``pytest_plugins``."""

import errno
import ipaddress
import socket

import pytest

from fake_platforms.feed_site import FeedSite


@pytest.fixture
def site():
    """A blog host on 127.0.0.1; ``site.script(path, Reply)`` fixes any answer."""
    with FeedSite() as server:
        yield server


@pytest.fixture
def other_site():
    """A second host (another port, so another origin) for redirects."""
    with FeedSite() as server:
        yield server


class FakeNetwork:
    """The internet as a test sees it, so that no packet leaves 127.0.0.1.

    ``resolve(name, *answers)``: the name's DNS answers, one per lookup, the
    last one repeated (a rebinding resolver answers twice, differently);
    ``route(address, server)``: connections to that public-looking address
    reach a loopback server instead. ``lookups`` and ``connects`` record the
    names looked up and the ``(address, port)`` every socket connected to.
    Any other address but loopback is unreachable."""

    def __init__(self, real_getaddrinfo):
        self._real_getaddrinfo = real_getaddrinfo
        self._answers = {}
        self._routes = {}
        self.lookups = []
        self.connects = []

    def resolve(self, name, *answers):
        self._answers[name] = list(answers)

    def route(self, address, server):
        self._routes[address] = server.port

    def getaddrinfo(self, host, port, *args, **kwargs):
        # what the system resolver does first with an international name
        name = host if host.isascii() else host.encode("idna").decode("ascii")
        answers = self._answers.get(name)
        if answers is None:
            if name.endswith(".invalid"):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return self._real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(name)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        if ipaddress.ip_address(address).version == 6:
            return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    def destination(self, address):
        """Where a socket asked to connect to ``address`` really goes."""
        self.connects.append(tuple(address[:2]))
        if address[0] in self._routes:
            return ("127.0.0.1", self._routes[address[0]])
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise OSError(errno.ENETUNREACH, f"no route to {address[0]} from the tests")
        return address


@pytest.fixture
def network(monkeypatch):
    """A :class:`FakeNetwork` in place of DNS and IP routing."""
    fake = FakeNetwork(socket.getaddrinfo)

    class RoutedSocket(socket.socket):
        def connect(self, address):
            super().connect(fake.destination(address))

    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    monkeypatch.setattr(socket, "socket", RoutedSocket)
    return fake
