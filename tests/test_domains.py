"""Which organisation a website is evidence about, by the Public Suffix List."""

import socket

import pytest
from publicsuffixlist import PSLFILE

from channels.domains import UNLISTED_HOSTING_SUFFIXES, _suffix_list, registrable_domain, site_domain, spellings


@pytest.mark.parametrize(
    "url, domain",
    [
        # plain company domains: any host under them is the company's
        ("https://www.tentworks.example/", "tentworks.example"),
        ("https://blog.tentworks.example/en/", "tentworks.example"),
        ("tentworks.example", "tentworks.example"),
        ("https://TentWorks.Example.", "tentworks.example"),
        ("https://shop.tentworks.co.uk", "tentworks.co.uk"),  # ICANN section: co.uk
        ("https://www.service-public.gouv.fr", "service-public.gouv.fr"),  # gouv.fr is a suffix
        # private section: each user's subdomain is theirs, not the host's
        ("https://carol.github.io/", "carol.github.io"),
        ("https://docs.carol.github.io", "carol.github.io"),
        ("https://carol.blogspot.com", "carol.blogspot.com"),
        ("https://carol-app.herokuapp.com", "carol-app.herokuapp.com"),
        ("https://carol.netlify.app", "carol.netlify.app"),
        ("https://carol.pages.dev", "carol.pages.dev"),
        # hosts missing from the shipped list, read as private suffixes too
        ("https://carol.bsky.social", "carol.bsky.social"),
        ("https://carol.blacksky.app", "carol.blacksky.app"),
        ("https://carol.substack.com", "carol.substack.com"),
        ("https://carol.wordpress.com", "carol.wordpress.com"),
        # IDNs: one punycode spelling whichever way they are written
        ("https://www.bücher.example/", "xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("https://shop.münchen.de", "xn--mnchen-3ya.de"),
        # a public suffix itself belongs to no one
        ("https://github.io", ""),
        ("https://blogspot.com", ""),
        ("https://herokuapp.com", ""),
        ("https://bsky.social", ""),
        ("https://blacksky.app", ""),
        ("https://co.uk", ""),
        # no domain at all
        ("https://127.0.0.1/", ""),
        ("https://[::1]/", ""),
        ("", ""),
    ],
)
def test_registrable_domain(url, domain):
    assert registrable_domain(url) == domain


def test_github_io_never_matches_its_users_sites():
    assert registrable_domain("https://carol.github.io") != registrable_domain("https://github.io")
    assert registrable_domain("https://carol.github.io") != registrable_domain("https://bob.github.io")
    assert registrable_domain("https://carol.github.io") != registrable_domain("https://github.com")


def test_only_a_home_page_is_evidence_about_its_domain():
    assert site_domain("https://tentworks.example") == "tentworks.example"
    assert site_domain("https://www.tentworks.example/") == "tentworks.example"
    assert site_domain("https://carol.github.io/") == "carol.github.io"
    assert site_domain("https://github.com/carol") == ""
    assert site_domain("https://medium.com/@carol") == ""


def test_idn_spellings():
    assert spellings("xn--bcher-kva.example") == {"xn--bcher-kva.example", "bücher.example"}
    assert spellings("tentworks.example") == {"tentworks.example"}
    assert spellings("xn--zz.example") == {"xn--zz.example"}  # not valid punycode


def test_shipped_list_has_the_private_section_and_lacks_the_unlisted_hosts():
    """If a release adds one of our extra hosts, drop it from the extras."""
    psl = _suffix_list()
    assert psl.is_private("carol.github.io") and psl.publicsuffix("carol.github.io") == "github.io"
    with open(PSLFILE, encoding="utf-8") as shipped:
        rules = {line.strip() for line in shipped}
    assert "github.io" in rules and "blogspot.com" in rules and "herokuapp.com" in rules
    assert not rules & set(UNLISTED_HOSTING_SUFFIXES)


def test_the_list_is_read_without_network(monkeypatch):
    _suffix_list.cache_clear()

    def refuse(*_args, **_kwargs):
        raise AssertionError("the Public Suffix List must not be downloaded")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert registrable_domain("https://carol.github.io") == "carol.github.io"
