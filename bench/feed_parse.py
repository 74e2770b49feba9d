"""Feed parsing benchmark: one pull of a 1,000-entry WordPress-style RSS 2.0
feed through :class:`channels.feeds.FeedClient` (parsing and building the
records; the HTTP answer is handed over in memory so only the client is timed).

Usage: ``python bench/feed_parse.py [entries] [rounds]``; prints the median in ms.
"""

import pathlib
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "social_crm"))

from channels import SourceSettings, client_for  # noqa: E402  after the path is set
from channels.transport import Response  # noqa: E402

URL = "https://blog.example/feed/"


def wordpress_feed(entries):
    """A WordPress RSS 2.0 feed: ``content:encoded`` in CDATA, ``dc:creator``,
    categories, comments links, about 1.5 KB of HTML per entry."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    items = []
    for n in range(entries):
        paragraphs = "".join(
            f"<p>Paragraph {k} of post {n}: the <a href=\"/2026/01/post-{n}/#s{k}\">trail</a> climbs "
            f"past the <em>old mill</em> &amp; the <strong>ridge</strong>; bring water.</p>"
            for k in range(8)
        )
        items.append(
            f"<item><title>Post {n} &#8211; field notes</title>"
            f"<link>https://blog.example/2026/01/post-{n}/</link>"
            f"<comments>https://blog.example/2026/01/post-{n}/#respond</comments>"
            f"<dc:creator><![CDATA[Writer {n % 7}]]></dc:creator>"
            f"<pubDate>{format_datetime(start + timedelta(hours=n))}</pubDate>"
            f"<category><![CDATA[Hiking]]></category><category><![CDATA[Gear]]></category>"
            f'<guid isPermaLink="false">https://blog.example/?p={1000 + n}</guid>'
            f"<description><![CDATA[Post {n}: the trail climbs past the old mill [&#8230;]]]></description>"
            f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>"
            f"<wfw:commentRss>https://blog.example/2026/01/post-{n}/feed/</wfw:commentRss>"
            f"<slash:comments>{n % 5}</slash:comments></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/"><channel><title>Trail blog</title>'
        f"<link>https://blog.example/</link><description>Walks</description>{''.join(items)}</channel></rss>"
    ).encode()


class MemoryTransport:
    """The transport's answer, already read."""

    def __init__(self, content):
        self.content = content

    def request(self, method, url, **_kwargs):
        return Response(200, url, self.content, {"content-type": "application/rss+xml; charset=UTF-8"})


def main():
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    content = wordpress_feed(entries)
    for max_items in (entries, 200):
        settings = SourceSettings("feed", "feed", URL, max_items=max_items)
        timings = []
        for _round in range(rounds):
            client = client_for(settings, MemoryTransport(content))
            started = time.perf_counter()
            batch = next(client.pull(None))
            timings.append((time.perf_counter() - started) * 1000)
        print(
            f"{entries} entries ({len(content) // 1024} KiB), max_items={max_items}: "
            f"{len(batch.posts)} posts, median {statistics.median(timings):.0f} ms"
        )


if __name__ == "__main__":
    main()
