"""Values read from a platform, made fit to store: the one place where every
client's numbers, texts, links, dates and JSON answers are checked.

A platform answer is untrusted input: a count may exceed PostgreSQL's
``int4``, a date may not fit a ``datetime`` once moved to UTC, a title may be
an object, a link may be ``javascript:``. Values are coerced here rather
than refused, so one odd field does not cost its post; what cannot be read
at all (a post without id) makes the client skip that one item, and
:func:`skip_reason` says why in a short line without the payload.
"""

import html
import json
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from .errors import InvalidDataError

#: PostgreSQL ``integer`` (Odoo's Integer fields)
INT4_MAX = 2**31 - 1
#: dates outside this range are none a platform means: stored as unknown
MIN_DATE = datetime(1970, 1, 1)
MAX_DATE = datetime(9999, 1, 1)
#: what reading a malformed answer makes Python raise (UnicodeError is a ValueError)
UNREADABLE = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)
#: what reading one item of an answer may raise when the item is malformed
ITEM_ERRORS = (InvalidDataError, *UNREADABLE)
#: what a URL may not contain (``str.isspace``'s characters)
_SPACE = re.compile(r"\s")
#: characters PostgreSQL (NUL) or lxml (C0 controls) refuse in text
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REASON_MAX = 160
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


def required(item, key, what="", kinds=str):
    """``item[key]``, which the platform always sends, if it is one of
    ``kinds`` and not empty; else an :class:`InvalidDataError` naming it
    (``what`` says whose): a post without it cannot be stored, and storing
    half of one would hide the problem."""
    value = item.get(key) if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, kinds) or value == "":
        raise InvalidDataError(f"{what} without '{key}'" if what else f"no '{key}'")
    return value


def text(value):
    """``value`` if it is a string, else ``""``: a title that is an object is
    no title. Control characters are dropped and lone surrogates (``\\udcff``
    in JSON) replaced, as the database and the HTML sanitizer refuse them."""
    if not isinstance(value, str):
        return ""
    if value.isascii():
        return _CONTROL.sub("", value) if not value.isprintable() else value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return _CONTROL.sub("", value)


def count(value, default=0):
    """An engagement or follower count: an int (not a bool) capped to
    ``int4``; ``default`` when absent, of another type or negative (hidden)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return default
    return min(value, INT4_MAX)


def web_url(value):
    """``value`` if it is an absolute http(s) URL, else ``""``: links are
    shown and followed, so ``javascript:``, ``data:`` and the like are dropped."""
    value = text(value).strip()
    if not value or _SPACE.search(value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def moment(value):
    """A ``datetime`` as naive UTC, or None when it cannot be one between
    1970 and 9999 (``0001-01-01T00:00:00+05:00`` overflows when moved to UTC)."""
    if not isinstance(value, datetime):
        return None
    try:
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None
    return value if MIN_DATE <= value < MAX_DATE else None


def parse_date(value):
    """An RFC 822 (RSS) or ISO 8601 (Atom, JSON APIs) date as naive UTC, or
    None when unreadable or out of range."""
    value = text(value).strip()
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except (ValueError, OverflowError):
            return None
    return moment(parsed)


def read_json(response):
    """The JSON body of a platform answer. Invalid UTF-8 inside a string is
    replaced (U+FFFD) rather than losing every post of the page over one;
    an answer that cannot be read at all, nesting too deep included, is one
    :class:`InvalidDataError` naming the URL."""
    content = response.content
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace").lstrip("\ufeff")
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} at position {exc.pos}"
    except RecursionError:
        detail = "nested too deeply"
    raise InvalidDataError(f"{safe_url(response.url)} answered with malformed JSON ({detail})")


def skip_reason(what, error):
    """One short line on an item skipped: what it was and why, never the
    item itself (it may be huge or hold what should not be logged)."""
    if isinstance(error, InvalidDataError):
        why = error.message
    elif isinstance(error, KeyError):
        why = f"missing {error.args[0]!r}" if error.args and isinstance(error.args[0], str) else "missing field"
    elif isinstance(error, RecursionError):
        why = "nested too deeply"
    else:
        why = f"unreadable ({type(error).__name__})"
    line = f"{what}: {why}" if what else why
    return line if len(line) <= _REASON_MAX else line[: _REASON_MAX - 1] + "…"


_MEDIA = re.compile(r"<(?:img|image|picture|source|video|audio|input|track)\b|\sbackground\s*=", re.IGNORECASE)
#: attributes that make a browser load something as soon as a message is shown
_LOADING_ATTRIBUTES = ("src", "srcset", "poster", "background", "lowsrc", "dynsrc")


def _remote(url):
    url = (url or "").strip().lower()
    return url.startswith(("http:", "https:", "//")) or ("," in url and "http" in url)  # a srcset list


def without_remote_images(body):
    """``body`` whose remote images load only when asked: each ``<img>``
    from the network becomes a link to it (its alt text, else "image"),
    and other remote media attributes (``srcset``, ``poster``, a video's
    ``src``, ``background``) are dropped. Opening a message then tells no
    sender that it was read (tracking pixels) nor where from. Inline
    ``data:`` images load nothing and are kept."""
    if not body or not _MEDIA.search(body):
        return body
    try:
        root = lxml.html.fragment_fromstring(body, create_parent="div")
    except (etree.ParserError, ValueError):
        return body  # the sanitizer of the Html field has the last word
    for node in list(root.iter(etree.Element)):
        if node.tag in ("img", "image") and _remote(node.get("src") or node.get("href")):
            src = (node.get("src") or node.get("href")).strip()
            link = etree.Element("a", href=web_url(f"https:{src}" if src.startswith("//") else src) or "#")
            link.set("target", "_blank")
            link.set("rel", "noopener noreferrer")
            link.text = f"[{text(node.get('alt')).strip() or 'image'}]"
            link.tail = node.tail
            node.getparent().replace(node, link)
            continue
        for name in _LOADING_ATTRIBUTES:
            if _remote(node.get(name)):
                del node.attrib[name]
    return html.escape(root.text or "", quote=False) + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in root
    )


#: elements that end a line when HTML is read as text
_LINE_ENDS = ("p", "div", "li", "blockquote", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6")


def html_to_text(value):
    """Plain text of HTML as people read it: a link reads as its words (no
    ``[1]`` markers, no list of URLs, no space inside ``@<span>jo</span>``),
    paragraphs, list items and line breaks on lines of their own."""
    value = text(value)
    if not value.strip():
        return ""
    root = lxml.html.fragment_fromstring(value, create_parent="div")
    for node in root.iter("br", *_LINE_ENDS):
        if node is not root:
            node.tail = "\n" + (node.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)
