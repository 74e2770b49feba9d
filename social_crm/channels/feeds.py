"""RSS 0.90 to 2.0, RSS 1.0, Atom 0.3 and 1.0 and CDF feeds of blogs, forums,
groups, podcasts and code hosts.

A feed entry opens a conversation; the comments feed it links
(``wfw:commentRss`` or an Atom ``replies`` link) brings its replies, so a
post and its comments become one thread. Requests are conditional (ETag,
Last-Modified).

Documents are read by feedparser, which reads what feed readers show: every
format and variant, HTML entities, ill-formed XML, the encoding the HTTP
header, BOM or XML declaration names. It gets the bytes our transport fetched
(host checks, size cap, timeouts) as a stream, so it never opens a URL or a
file itself, and never a document that declares XML entities: those are
refused before, as possible XML bombs or external entities.
"""

import hashlib
import html
import io
import logging
import re
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from feedparser.encodings import convert_to_utf8
from lxml import etree

from . import values
from .base import ChannelClient, PlatformInfo, register
from .errors import ChannelError, ConfigError, InvalidDataError
from .records import Author, Batch, Post
from .transport import safe_url

_logger = logging.getLogger(__name__)

MAX_COMMENT_FEEDS = 20
#: an element's start and name (the first one is the root, unless a comment precedes it)
_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
#: an entity declaration outside CDATA (a post about XML may quote one)
_ENTITY_DECLARATION = re.compile(rb"<!\[CDATA\[.*?\]\]>|(<!\s*ENTITY)", re.IGNORECASE | re.DOTALL)
_XML_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""")
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
#: the document ends once its root element is closed (spaces and comments may follow)
_CLOSED = re.compile(rb"</[\w.:-]+\s*>(?:\s|<!--.*?-->)*\Z", re.DOTALL)
_ENTRY_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(?:item|entry|ITEM)[\s/>]")
#: an HTML href or src whose link is relative: neither a scheme nor a fragment
_RELATIVE = r"(?!\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:|#))"
_RELATIVE_LINK = re.compile(
    rf"""(?P<attribute>\s(?:href|src)\s*=\s*)"""
    rf"""(?:"{_RELATIVE}(?P<link>[^"]*)"|'{_RELATIVE}(?P<link2>[^']*)'|{_RELATIVE}(?!["'])(?P<link3>[^\s>]+))""",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
#: where an entry's date is, best first: published (RSS ``pubDate``, Atom 0.3
#: ``issued``, ``dcterms:issued``), created, updated (``dcterms:modified``, CDF ``LASTMOD``)
_DATES = ("published", "created", "updated")


def _entities_refused(where):
    return f"{where} declares XML entities; refused as a possible XML bomb or external entity"


def _as_utf8(content, content_type):
    """``content`` as UTF-8, decoded as feedparser decodes it (HTTP charset,
    BOM, XML declaration, then guesses). A document declared UTF-8 that holds
    a few bytes that are not is read as a browser reads it: those bytes
    become U+FFFD, rather than the whole document being guessed Windows-1252."""
    charset = _HTTP_CHARSET.search(content_type)
    declared = charset.group(1) if charset else (_XML_ENCODING.match(content) or [b"", b""])[1]
    if isinstance(declared, bytes):
        declared = declared.decode("ascii")
    if declared.lower().replace("_", "-") in ("utf-8", "utf8"):
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            content = content.decode("utf-8", "replace").encode("utf-8")
    return convert_to_utf8({"content-type": content_type}, content, {})


class FeedDocument:
    """A fetched feed, read by feedparser, as entries and their authors."""

    def __init__(self, content, url, content_type="", base=""):
        """Refuse what is no feed or declares entities, read the rest.
        ``base`` is the URL the document came from (after redirects): its
        relative links are read against it, or against their ``xml:base``."""
        where = safe_url(url)
        if not content.strip():
            raise InvalidDataError(f"{where} answered with an empty body instead of a feed")
        data = _as_utf8(content, content_type)
        # anywhere, not only before the root element: a comment before the
        # DOCTYPE may hold what looks like an element
        if any(found.group(1) for found in _ENTITY_DECLARATION.finditer(data)):
            raise InvalidDataError(_entities_refused(where))
        self.url = url
        self.base = base or url
        self.host = urlsplit(url).hostname or ""
        try:
            parsed = feedparser.parse(
                io.BytesIO(data),
                response_headers={"content-type": "application/xml; charset=utf-8", "content-location": self.base},
                # the sanitizer of the Html field cleans what is stored;
                # relative links are resolved below, several times faster
                sanitize_html=False,
                resolve_relative_uris=False,
            )
        except values.UNREADABLE as error:
            raise InvalidDataError(f"{where} could not be read as a feed ({type(error).__name__})") from error
        self.feed, self.items = parsed.feed, parsed.entries
        problem = parsed.get("bozo_exception") if parsed.bozo else None
        if not parsed.version and not self.items:
            raise InvalidDataError(self._not_a_feed(where, _ELEMENT.search(data), problem))
        if problem is not None:
            _logger.info("%s is not well-formed XML (%s); read as a feed reader reads it", where, problem)
        #: the last entry was cut off with the document (its root element is never closed)
        self.cut_off = bool(self.items) and not _CLOSED.search(data[-4096:]) and self._last_entry_open(data)
        self.site_title = self.feed.get("title", "")

    @staticmethod
    def _not_a_feed(where, first, problem):
        root = first.group(1).decode("ascii", "replace") if first else ""
        if root.rpartition(":")[2].lower() == "html":
            return f"{where} is an HTML page, neither an RSS nor an Atom feed"
        if problem is not None:
            return f"{where} is not well-formed XML ({problem}) and no feed could be read from it"
        if root:
            return f"{where} is neither an RSS nor an Atom feed (root element <{root}>)"
        return f"{where} is neither an RSS nor an Atom feed"

    @staticmethod
    def _last_entry_open(data):
        last = None
        for last in _ENTRY_TAG.finditer(data):
            pass
        return last is not None and not last.group(1)

    def entries(self, limit, skipped):
        """Yield ``(Post fields without the thread, author, comments feed
        URL)`` per entry; an entry that cannot be read is skipped, its reason
        added to ``skipped``."""
        items = self.items[:limit]
        if self.cut_off and len(items) == len(self.items):
            items = items[:-1]
            skipped.append("entry: cut off where the document ends; read again on the next pull")
        for entry in items:
            try:
                yield self._read(entry)
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason("entry", error))

    def _read(self, entry):
        link = self._web_link(entry.get("link", ""))
        body = self._body(entry)
        post = {
            "external_id": self._external_id(entry, link, body),
            "title": _plain_text(entry.get("title_detail")) or " ".join(entry.get("title", "").split()),
            "url": link,
            "body_html": body,
            "posted_at": next(filter(None, (_moment(entry, key) for key in _DATES)), None),
            "parent_id": (entry.get("thr_in-reply-to") or {}).get("ref", ""),
            "reply_count": _count(entry.get("slash_comments") or entry.get("thr_total")),
        }
        return post, self._author(entry), self._web_link(entry.get("wfw_commentrss") or self._replies(entry))

    def _external_id(self, entry, link, body):
        """Entry ids are global: keep ids that are URLs or URNs, scope the
        rest. An entry with neither id nor link (RSS allows it) is known by
        its enclosure (a podcast episode), else by a digest of what it says,
        the same on every pull."""
        guid = entry.get("id", "").strip() or link or self._enclosure(entry)
        if guid:
            return guid if ":" in guid else f"{self.url}#{guid}"
        said = "\x1f".join(
            (entry.get("title", ""), *(dict.get(entry, key, "") for key in _DATES), entry.get("author", ""), body)
        )
        return f"{self.url}#sha256:{hashlib.sha256(said.encode('utf-8', 'replace')).hexdigest()[:32]}"

    @staticmethod
    def _replies(entry):
        """The Atom ``replies`` link to a comments feed: one typed as a feed,
        else an untyped one (feedparser types it ``text/html``) that is no anchor
        (Blogger also links its comment form, ``…/post.html#comment-form``)."""
        replies = [link for link in entry.get("links", ()) if link.get("rel") == "replies" and link.get("href")]
        typed = [link["href"] for link in replies if link.get("type", "").endswith("xml")]
        return next(iter(typed), None) or next((link["href"] for link in replies if "#" not in link["href"]), "")

    @staticmethod
    def _enclosure(entry):
        return next((link.get("href", "") for link in entry.get("links", ()) if link.get("rel") == "enclosure"), "")

    def _author(self, entry):
        """The entry's author, else the feed's, else the feed itself. Feeds
        write an author as ``Jo``, ``jo@x.example``, ``jo@x.example (Jo)``
        (RSS 2.0) or ``Jo <jo@x.example>``; Atom gives name, email and uri."""
        source = entry if entry.get("author") or entry.get("author_detail") else self.feed
        name, email = _name_and_email(source.get("author", ""))
        uri = self._web_link((source.get("author_detail") or {}).get("href", ""))
        if uri:
            external_id = uri
        elif email:
            external_id = f"mailto:{email.lower()}"
        elif name:
            external_id = f"{self.host}:{name}"
        else:
            external_id, name = self.host, self.site_title or self.host
        return Author(external_id=external_id, handle=name or email, name=name, profile_url=uri, email=email)

    def _body(self, entry):
        """The entry's content as HTML, its relative links made absolute."""
        contents = entry.get("content") or [entry.get("summary_detail")]
        detail = next((c for c in contents if c and "html" in c.get("type", "")), contents[0])
        if not detail or not detail.get("value"):
            return ""
        value = detail["value"].strip()
        if "html" not in detail.get("type", ""):
            return html.escape(value)
        return _absolute_links(value, detail.get("base") or self.base)

    def _web_link(self, href):
        """``href`` as an absolute http(s) URL; other schemes (javascript:,
        data:, file:) are dropped, as they are unsafe to show or to pull."""
        try:
            link = urljoin(self.base, href.strip()) if href else ""
            return link if urlsplit(link).scheme in ("http", "https") else ""
        except ValueError:
            return ""


def _name_and_email(author):
    """``(name, email)`` of an author as a feed writes it."""
    author = " ".join(author.replace("mailto:", "").split())
    found = _EMAIL.search(author)
    if not found:
        return author, ""
    name = (author[: found.start()] + author[found.end() :]).replace("()", "").replace("<>", "")
    return name.strip(" ()<>\"'"), found.group(0)


def _plain_text(detail):
    """A title given as HTML or XHTML (Atom ``type="html"``, an RSS title
    with markup), as text: tags dropped, entities read."""
    if not detail or "html" not in detail.get("type", "") or not detail.get("value", "").strip():
        return ""
    try:
        text = lxml.html.fragment_fromstring(detail["value"], create_parent="div").text_content()
    except (etree.ParserError, ValueError):
        return ""
    return " ".join(text.split())


def _absolute_links(body, base):
    """``body`` whose links and images point where their base says; the
    HTML is left as it is otherwise (the Html field's sanitizer reads it)."""

    def absolute(found):
        try:
            link = next(part for part in found.group("link", "link2", "link3") if part is not None)
            link = urljoin(base, html.unescape(link).strip())
        except ValueError:
            link = ""
        return f'{found["attribute"]}"{html.escape(link)}"'

    return _RELATIVE_LINK.sub(absolute, body)


def _moment(entry, key):
    """An entry's date as naive UTC (feedparser reads every format of date
    into UTC); None when absent or out of range (``9999-12-31T23:59:59-01:00``)."""
    parsed = dict.get(entry, f"{key}_parsed")  # not entry.get: it reads "updated" as "published"
    try:
        return values.moment(datetime(*parsed[:6])) if parsed else None
    except (TypeError, ValueError, OverflowError):
        return None


def _count(value):
    """A count of comments (``slash:comments``, ``thr:total``); 0 when unreadable."""
    value = (value or "").strip()
    return int(value) if value.isdecimal() and len(value) < 12 else 0


@register
class FeedClient(ChannelClient):
    """Pulls one feed and the comments feeds of its latest entries."""

    info = PlatformInfo(name="feed", label="RSS / Atom feed", modes=(("feed", "Feed"),))

    def _pull(self, cursor):
        url = self.settings.target.strip()
        if not url:
            raise ConfigError("the source has no feed URL")
        cursor = {"feed": {}, "comments": {}, **(cursor or {})}
        response = self._get(url, cursor["feed"])
        comment_feeds = cursor["comments"]
        if response.status == 304:
            yield Batch(cursor=cursor, not_modified=True)
        else:
            posts, authors, comment_urls, skipped = self._read(url, response)
            comment_feeds = {
                comments_url: {**comment_feeds.get(comments_url, {}), "thread": entry_id}
                for comments_url, entry_id in comment_urls[:MAX_COMMENT_FEEDS]
            }
            cursor = {"feed": self._validators(response), "comments": comment_feeds}
            yield Batch(posts=tuple(posts), authors=tuple(authors), cursor=cursor, skipped=tuple(skipped))
        for comments_url in comment_feeds:
            batch = self._pull_comments(comments_url, cursor)
            cursor = batch.cursor
            yield batch

    def _pull_comments(self, comments_url, cursor):
        """One comments feed as one batch whose cursor is a new dict. A feed
        that fails for good (gone, refused, unreadable) is forgotten rather
        than failing every later pull; the others keep their validators."""
        comments = dict(cursor["comments"])
        validators = comments[comments_url]
        try:
            response = self._get(comments_url, validators)
            if response.status == 304:
                return Batch(cursor=cursor, not_modified=True)
            posts, authors, _urls, skipped = self._read(comments_url, response, thread_key=validators["thread"])
        except ChannelError as exc:
            if exc.retryable:
                raise
            _logger.warning("comments feed no longer pulled: %s", exc.message)
            del comments[comments_url]
            return Batch(cursor={**cursor, "comments": comments})
        comments[comments_url] = {**self._validators(response), "thread": validators["thread"]}
        return Batch(
            posts=tuple(posts), authors=tuple(authors), cursor={**cursor, "comments": comments}, skipped=tuple(skipped)
        )

    def _get(self, url, validators):
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1"}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return self.transport.request("GET", url, headers=headers)

    @staticmethod
    def _validators(response):
        return {
            key: value
            for key, value in (("etag", response.header("etag")), ("last_modified", response.header("last-modified")))
            if value
        }

    def _read(self, url, response, thread_key=None):
        """Posts and authors of one document. Entries of a main feed open
        their own thread; entries of a comments feed join ``thread_key``."""
        document = FeedDocument(response.content, url, response.header("content-type"), response.url)
        posts, authors, comment_urls, skipped = [], {}, [], []
        for fields, author, comments_url in document.entries(self.settings.max_items, skipped):
            if thread_key:
                fields["parent_id"] = fields.get("parent_id") or thread_key
            try:
                post = Post(thread_key=thread_key or fields["external_id"], author_id=author.external_id, **fields)
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason("entry", error))
                continue
            authors[author.external_id] = author
            posts.append(post)
            if comments_url and not thread_key:
                comment_urls.append((comments_url, fields["external_id"]))
        return posts, list(authors.values()), comment_urls, skipped
