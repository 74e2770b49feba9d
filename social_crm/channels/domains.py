"""Who a website is evidence about: the organisation that controls its
registrable domain, read from the Public Suffix List (private section
included), so that ``carol.github.io`` is Carol's site, never GitHub's.

The list ships with ``publicsuffixlist`` (updated with each release) and is
read from the package, never downloaded.
"""

from functools import cache
from urllib.parse import urlsplit

from publicsuffixlist import PSLFILE, PublicSuffixList

#: Hosting domains that give each user a subdomain but are missing from the
#: private section of the list we ship (checked against 1.1.2.20261023):
#: Bluesky handle providers and blog hosts. Read as private suffixes too.
UNLISTED_HOSTING_SUFFIXES = (
    "bsky.social",
    "blacksky.app",
    "substack.com",
    "wordpress.com",
    "tumblr.com",
    "neocities.org",
)


@cache
def _suffix_list():
    with open(PSLFILE, encoding="utf-8") as bundled:
        return PublicSuffixList([*bundled, *UNLISTED_HOSTING_SUFFIXES])


def host_of(url):
    """The lowercase host of a URL or a bare domain, IDNs in punycode; ""
    when there is none or it is not a domain name."""
    try:
        host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
        return host.rstrip(".").encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return ""


def registrable_domain(url):
    """The domain one organisation registered, under which ``url`` lies:
    ``shop.tentworks.co.uk`` -> ``tentworks.co.uk``, ``carol.github.io`` ->
    ``carol.github.io``; "" for a public suffix itself (``github.io``,
    ``co.uk``), an IP address or no host."""
    host = host_of(url)
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return ""
    return _suffix_list().privatesuffix(host) or ""


def site_domain(url):
    """The registrable domain a verified link is evidence about: only a
    site's home page counts, since a page deeper down (``github.com/carol``,
    ``medium.com/@carol``) proves control of that page, not of the domain."""
    path = urlsplit(url if "://" in url else f"https://{url}").path
    return registrable_domain(url) if path in ("", "/") else ""


def spellings(domain):
    """A domain as people write it: punycode and, for an IDN, Unicode."""
    try:
        return {domain, domain.encode("ascii").decode("idna")}
    except UnicodeError:
        return {domain}
