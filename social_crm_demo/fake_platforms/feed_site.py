"""A blog and forum host serving RSS 2.0, RSS 1.0 and Atom feeds with
comments feeds, conditional GET (ETag and Last-Modified), and scripted
failures for tests."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from xml.sax.saxutils import escape

from .server import LoopbackServer, Reply

CONTENT_TYPES = {"rss2": "application/rss+xml", "rss1": "application/rdf+xml", "atom": "application/atom+xml"}


@dataclass
class SampleComment:
    id: str
    author: str
    body: str
    published: datetime
    email: str = ""
    #: id of the comment this one answers (Atom ``thr:in-reply-to``); the entry by default
    in_reply_to: str = ""


@dataclass
class SampleEntry:
    id: str
    title: str
    author: str
    body: str
    published: datetime
    email: str = ""
    comments: list = field(default_factory=list)


def sample_entries(count, comments_per_entry=0, start=None, prefix="post"):
    """``count`` entries by ``count // 3 + 1`` authors, newest first."""
    start = start or datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
    entries = []
    for n in range(count):
        published = start + timedelta(hours=n)
        entries.append(
            SampleEntry(
                id=f"{prefix}-{n}",
                title=f"Field notes #{n}",
                author=f"Writer {n % (count // 3 + 1)}",
                email=f"writer{n % (count // 3 + 1)}@blogs.example",
                published=published,
                body=f"<p>Trip report {n}: the <b>tent</b> held up in the wind.</p>",
                comments=[
                    SampleComment(
                        id=f"{prefix}-{n}-c{k}",
                        author=f"Reader {k}",
                        published=published + timedelta(minutes=k + 1),
                        body=f"<p>Reply {k} to report {n}.</p>",
                    )
                    for k in range(comments_per_entry)
                ],
            )
        )
    return list(reversed(entries))


class FeedSite(LoopbackServer):
    """Serves ``/<name>/feed`` and ``/<name>/comments/<entry id>`` for each
    blog added; ``script(path, Reply)`` makes a path answer a fixed reply."""

    def __init__(self, port=0):
        super().__init__(port)
        self.blogs = {}
        self.scripted = {}

    def add_blog(self, name, entries, fmt="rss2", title=None):
        self.blogs[name] = {"entries": entries, "format": fmt, "title": title or name.title()}
        return f"{self.url}/{name}/feed"

    def script(self, path, reply):
        self.scripted[path] = reply

    def handle(self, request):
        if request.path in self.scripted:
            return self.scripted[request.path]
        parts = request.path.strip("/").split("/")
        blog = self.blogs.get(parts[0]) if parts else None
        if blog is None:
            return Reply(404, "not found")
        if parts[1:] == ["feed"]:
            body, items = self.render(parts[0], blog), blog["entries"]
        elif len(parts) == 3 and parts[1] == "comments":
            entry = next((e for e in blog["entries"] if e.id == parts[2]), None)
            if entry is None:
                return Reply(404, "no such entry")
            body, items = self.render_comments(parts[0], blog, entry), entry.comments or [entry]
        else:
            return Reply(404, "not found")
        validators = {
            "ETag": f'"{hashlib.sha1(body.encode()).hexdigest()[:16]}"',
            "Last-Modified": format_datetime(
                max(item.published for item in items).astimezone(timezone.utc), usegmt=True
            ),
        }
        if self._not_modified(request.headers, validators):
            return Reply(304, headers=validators)
        return Reply(200, body, headers={"Content-Type": CONTENT_TYPES[blog["format"]], **validators})

    @staticmethod
    def _not_modified(headers, validators):
        """RFC 9110: If-None-Match wins; If-Modified-Since counts only without it."""
        if "if-none-match" in headers:
            return headers["if-none-match"] == validators["ETag"]
        try:
            since = parsedate_to_datetime(headers.get("if-modified-since", ""))
        except (TypeError, ValueError):
            return False
        return since >= parsedate_to_datetime(validators["Last-Modified"])

    def _link(self, name, entry):
        return f"{self.url}/{name}/{entry.id}.html"

    def render(self, name, blog):
        return getattr(self, f"_render_{blog['format']}")(name, blog, blog["entries"], comments_of=None)

    def render_comments(self, name, blog, entry):
        return getattr(self, f"_render_{blog['format']}")(name, blog, entry.comments, comments_of=entry)

    def _render_rss2(self, name, blog, items, comments_of):
        rows = []
        for item in items:
            author = f"{item.email} ({item.author})" if item.email else item.author
            tag = "author" if item.email else "dc:creator"
            comments = (
                ""
                if comments_of or not getattr(item, "comments", None)
                else (f"<wfw:commentRss>{self.url}/{name}/comments/{item.id}</wfw:commentRss>")
            )
            title = getattr(item, "title", "Re: " + (comments_of.title if comments_of else ""))
            rows.append(
                f"<item><title>{escape(title)}</title>"
                f'<link>{self._link(name, item)}</link><guid isPermaLink="false">{self.url}/{name}/{item.id}</guid>'
                f"<{tag}>{escape(author)}</{tag}><pubDate>{format_datetime(item.published)}</pubDate>"
                f"<description>{escape(item.body)}</description>{comments}</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/"><channel>'
            f"<title>{escape(blog['title'])}</title><link>{self.url}/{name}/</link>"
            f"<description>{escape(blog['title'])}</description>{''.join(rows)}</channel></rss>"
        )

    def _render_rss1(self, name, blog, items, comments_of):
        rows = "".join(
            f'<item rdf:about="{self._link(name, item)}"><title>{escape(getattr(item, "title", "Comment"))}</title>'
            f"<link>{self._link(name, item)}</link><dc:creator>{escape(item.author)}</dc:creator>"
            f"<dc:date>{item.published.isoformat()}</dc:date><description>{escape(item.body)}</description>"
            + (
                ""
                if comments_of or not getattr(item, "comments", None)
                else f"<wfw:commentRss>{self.url}/{name}/comments/{item.id}</wfw:commentRss>"
            )
            + "</item>"
            for item in items
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/">'
            f'<channel rdf:about="{self.url}/{name}/"><title>{escape(blog["title"])}</title>'
            f"<link>{self.url}/{name}/</link></channel>{rows}</rdf:RDF>"
        )

    def _render_atom(self, name, blog, items, comments_of):
        rows = []
        for item in items:
            replies = (
                ""
                if comments_of or not getattr(item, "comments", None)
                else (f'<link rel="replies" type="application/atom+xml" href="{self.url}/{name}/comments/{item.id}"/>')
            )
            in_reply_to = (
                f'<thr:in-reply-to ref="tag:{name},2026:{item.in_reply_to or comments_of.id}"/>' if comments_of else ""
            )
            email = f"<email>{escape(item.email)}</email>" if item.email else ""
            rows.append(
                f"<entry><id>tag:{name},2026:{item.id}</id><title>{escape(getattr(item, 'title', 'Comment'))}</title>"
                f'<link rel="alternate" href="{self._link(name, item)}"/>{replies}{in_reply_to}'
                f"<author><name>{escape(item.author)}</name>{email}</author>"
                f"<published>{item.published.isoformat()}</published><updated>{item.published.isoformat()}</updated>"
                f'<content type="html">{escape(item.body)}</content></entry>'
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">'
            f"<title>{escape(blog['title'])}</title><id>tag:{name},2026:feed</id>"
            f"<updated>2026-11-20T09:00:00Z</updated>{''.join(rows)}</feed>"
        )
