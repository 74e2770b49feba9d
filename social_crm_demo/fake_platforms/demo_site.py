"""What ``make demo`` serves on 127.0.0.1 so that its sources pull real
RSS, Atom, X, Mastodon and Bluesky over HTTP without any real credential:
a gear shop's blog with comments, a hiking forum and a camping discussion
group on ``--port``, then small X, Mastodon and Bluesky networks on the
three ports after it (the demo sources carry these servers' test tokens).

Run: ``python -m fake_platforms.demo_site --port 8070`` from ``social_crm_demo/``.
"""

import argparse
import logging
import time
from datetime import datetime, timezone

from .bluesky_api import BlueskyServer
from .feed_site import FeedSite, SampleComment, SampleEntry
from .mastodon_api import MastodonApi
from .x_api import XApi

DEMO_NETWORK = {"posts": 60, "authors": 15, "threads": 10, "seed": 7}


def _at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def demo_site(port):
    site = FeedSite(port=port)
    site.blogs["tentworks"] = {
        "format": "rss2",
        "title": "Tentworks Journal",
        "entries": [
            SampleEntry(
                id="ridgeline-2-review",
                title="Ridgeline 2 after a winter on the Cairngorms",
                author="Maya Brooks",
                email="maya@tentworks.example",
                published=_at(18, 9),
                body="<p>Our ranger team slept 40 nights in the <b>Ridgeline 2</b>. Here is what held up.</p>",
                comments=[
                    SampleComment(
                        "ridgeline-2-review-c1",
                        "Tom Keller",
                        "<p>Mine arrived without the tent stakes. Who do I talk to?</p>",
                        _at(18, 11, 5),
                        email="tom.keller@example.com",
                    ),
                    SampleComment(
                        "ridgeline-2-review-c2",
                        "Maya Brooks",
                        "<p>Sorry Tom! Replacements are on their way, we sent you the tracking number by email.</p>",
                        _at(18, 11, 40),
                        email="maya@tentworks.example",
                    ),
                    SampleComment(
                        "ridgeline-2-review-c3",
                        "Ana Ruiz",
                        "<p>Tip while you wait: the spare pole of the Ridgeline "
                        "works as an emergency stake in soft ground.</p>",
                        _at(18, 13, 2),
                    ),
                ],
            ),
            SampleEntry(
                id="repair-kit",
                title="What goes in our new repair kit",
                author="Maya Brooks",
                email="maya@tentworks.example",
                published=_at(20, 8),
                body="<p>Seam sealer, a pole splint and four spare stakes: the kit every Ridgeline now ships with.</p>",
            ),
        ],
    }
    site.blogs["trailforum"] = {
        "format": "atom",
        "title": "Trail Forum: Gear talk",
        "entries": [
            SampleEntry(
                id="thread-8812",
                title="Ridgeline 2 vs. Summit Lite for a family of three?",
                author="Lena Fischer",
                published=_at(19, 17),
                body="<p>We camp mostly in spring. Is the Ridgeline roomy enough for two adults and a kid?</p>",
                comments=[
                    SampleComment(
                        "thread-8812-r1",
                        "Ana Ruiz",
                        "<p>We fit two adults and a 7-year-old, snug but fine.</p>",
                        _at(19, 18, 30),
                    ),
                    SampleComment(
                        "thread-8812-r2",
                        "Joe Park",
                        "<p>Go bigger. The Ridgeline leaked at the seams for me and support never answered.</p>",
                        _at(19, 20, 12),
                    ),
                ],
            ),
        ],
    }
    site.blogs["gearclub"] = {
        "format": "rss1",
        "title": "Camping Club discussion group",
        "entries": [
            SampleEntry(
                id="club-2041",
                title="Using tent poles as trekking pole spares",
                author="Ana Ruiz",
                published=_at(21, 7, 45),
                body="<p>Has anyone tried the Ridgeline spare pole as a trekking pole tip? Works great.</p>",
            ),
        ],
    }
    return site


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8070)
    args = parser.parse_args()
    servers = [
        demo_site(args.port).start(),
        XApi.generate(**DEMO_NETWORK, port=args.port + 1).start(),
        MastodonApi.generate(**DEMO_NETWORK, port=args.port + 2).start(),
        BlueskyServer.generate(**DEMO_NETWORK, port=args.port + 3).start(),
    ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger(__name__).info(
        "feeds at %s/tentworks/feed, /trailforum/feed, /gearclub/feed; X, Mastodon, Bluesky at %s",
        servers[0].url,
        ", ".join(server.url for server in servers[1:]),
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
