"""RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 feeds of blogs, forums and groups.

A feed entry opens a conversation; the comments feed it links
(``wfw:commentRss`` or an Atom ``replies`` link) brings its replies, so a
post and its comments become one thread. Requests are conditional (ETag,
Last-Modified) and the parser resolves no entity and reaches no network.
"""

import html
import logging
from urllib.parse import urljoin, urlsplit

from lxml import etree

from . import values
from .base import ChannelClient, PlatformInfo, register
from .errors import ChannelError, ConfigError, InvalidDataError
from .records import Author, Batch, Post
from .transport import safe_url

_logger = logging.getLogger(__name__)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "rss1": "http://purl.org/rss/1.0/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "thr": "http://purl.org/syndication/thread/1.0",
}
MAX_COMMENT_FEEDS = 20


def parse_xml(content, url):
    """Parse untrusted XML: no entity expansion, no DTD loading, no network;
    a document that declares entities is refused outright."""
    where = safe_url(url)
    if not content.strip():
        raise InvalidDataError(f"{where} answered with an empty body instead of a feed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        # libxml2 stops on the entities it refuses to expand or load, with
        # messages (entity loop, undefined entity) that hide the reason
        if b"<!ENTITY" in content:
            raise InvalidDataError(_entities_refused(where)) from None
        if b"<html" in content.lstrip()[:1024].lower():
            raise InvalidDataError(f"{where} is an HTML page, neither an RSS nor an Atom feed") from None
        raise InvalidDataError(f"{where} is not well-formed XML: {exc.msg}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _entity in dtd.iterentities()):
        raise InvalidDataError(_entities_refused(where))
    return root


def _entities_refused(where):
    return f"{where} declares XML entities; refused as a possible XML bomb or external entity"


def _text(node, path):
    found = node.find(path, NS)
    return (found.text or "").strip() if found is not None and found.text else ""


class FeedDocument:
    """A parsed RSS or Atom document, read as entries and their authors."""

    def __init__(self, root, url):
        self.root = root
        self.url = url
        self.host = urlsplit(url).hostname or ""
        tag = etree.QName(root).localname
        if tag == "rss":
            self.format, self.items = "rss2", root.findall("channel/item")
            self.site_title = _text(root, "channel/title")
        elif tag == "RDF":
            self.format, self.items = "rss1", root.findall("rss1:item", NS)
            self.site_title = _text(root, "rss1:channel/rss1:title")
        elif tag == "feed" and etree.QName(root).namespace == NS["atom"]:
            self.format, self.items = "atom", root.findall("atom:entry", NS)
            self.site_title = _text(root, "atom:title")
        else:
            raise InvalidDataError(f"{safe_url(url)} is neither an RSS nor an Atom feed (root element <{tag}>)")

    def entries(self, limit, skipped):
        """Yield ``(Post without its thread, author, comments feed URL)`` per
        entry; an entry that cannot be read is skipped, its reason added to
        ``skipped``."""
        reader = getattr(self, f"_read_{self.format}")
        for item in self.items[:limit]:
            try:
                fields, author, comments_url = reader(item)
                yield fields, author, comments_url
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason("entry", error))

    def _author(self, name, email="", uri=""):
        name = name.strip()
        if "(" in name and "@" in name.split("(")[0]:
            # RSS 2.0 <author>: "jo@example.com (Jo Doe)"
            email, name = name.split("(", 1)[0].strip(), name.split("(", 1)[1].rstrip(")").strip()
        elif "@" in name and " " not in name:
            email, name = name, name.split("@")[0]
        if uri:
            external_id = uri
        elif email:
            external_id = f"mailto:{email.lower()}"
        elif name:
            external_id = f"{self.host}:{name}"
        else:
            external_id, name = self.host, self.site_title or self.host
        return Author(
            external_id=external_id,
            handle=name or email,
            name=name,
            profile_url=uri if uri.startswith("http") else "",
            email=email,
        )

    def _web_link(self, href):
        """``href`` as an absolute http(s) URL; other schemes (javascript:,
        data:, file:) are dropped, as they are unsafe to show or to pull."""
        try:
            link = urljoin(self.url, href.strip()) if href else ""
            return link if urlsplit(link).scheme in ("http", "https") else ""
        except ValueError:
            return ""

    def _external_id(self, guid, link):
        """Entry ids are global: keep ids that are URLs or URNs, scope the rest."""
        guid = guid or link
        if not guid:
            raise InvalidDataError(f"{safe_url(self.url)} has an entry with neither id nor link")
        return guid if ":" in guid else f"{self.url}#{guid}"

    def _read_rss2(self, item):
        link = _text(item, "link")
        author = self._author(_text(item, "author") or _text(item, "dc:creator"))
        post = {
            "external_id": self._external_id(_text(item, "guid"), link),
            "title": _text(item, "title"),
            "url": self._web_link(link),
            "body_html": _text(item, "content:encoded") or _text(item, "description"),
            "posted_at": values.parse_date(_text(item, "pubDate") or _text(item, "dc:date")),
        }
        return post, author, self._web_link(_text(item, "wfw:commentRss"))

    def _read_rss1(self, item):
        link = _text(item, "rss1:link")
        about = item.get(f"{{{NS['rdf']}}}about", "")
        post = {
            "external_id": self._external_id(about, link),
            "title": _text(item, "rss1:title"),
            "url": self._web_link(link),
            "body_html": _text(item, "content:encoded") or _text(item, "rss1:description"),
            "posted_at": values.parse_date(_text(item, "dc:date")),
        }
        return post, self._author(_text(item, "dc:creator")), self._web_link(_text(item, "wfw:commentRss"))

    def _read_atom(self, entry):
        links = {
            (link.get("rel", "alternate"), link.get("type", "")): link.get("href", "")
            for link in entry.findall("atom:link", NS)
        }
        alternate = next((href for (rel, _type), href in links.items() if rel == "alternate"), "")
        replies = links.get(("replies", "application/atom+xml")) or links.get(("replies", ""), "")
        author_node = entry.find("atom:author", NS)
        if author_node is None:
            author_node = self.root.find("atom:author", NS)
        author = (
            self._author(*(_text(author_node, f"atom:{part}") for part in ("name", "email", "uri")))
            if author_node is not None
            else self._author("")
        )
        in_reply_to = entry.find("thr:in-reply-to", NS)
        post = {
            "external_id": self._external_id(_text(entry, "atom:id"), alternate),
            "title": _text(entry, "atom:title"),
            "url": self._web_link(alternate),
            "body_html": self._atom_content(entry),
            "posted_at": values.parse_date(_text(entry, "atom:published") or _text(entry, "atom:updated")),
            "parent_id": in_reply_to.get("ref", "") if in_reply_to is not None else "",
        }
        return post, author, self._web_link(replies)

    @staticmethod
    def _atom_content(entry):
        node = entry.find("atom:content", NS)
        if node is None:
            node = entry.find("atom:summary", NS)
        if node is None:
            return ""
        kind = node.get("type", "text")
        if kind == "xhtml":
            return "".join(etree.tostring(child, encoding="unicode") for child in node)
        if kind == "html":
            return (node.text or "").strip()
        return html.escape((node.text or "").strip())


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
            posts, authors, comment_urls, skipped = self._read(url, response.content)
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
            posts, authors, _urls, skipped = self._read(
                comments_url, response.content, thread_key=validators["thread"]
            )
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

    def _read(self, url, content, thread_key=None):
        """Posts and authors of one document. Entries of a main feed open
        their own thread; entries of a comments feed join ``thread_key``."""
        document = FeedDocument(parse_xml(content, url), url)
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
