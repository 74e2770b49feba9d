"""HTTP servers on 127.0.0.1 that speak each platform's protocol with
realistic payloads. Tests pull from them; ``make demo`` serves its sample
feeds from them. Pure Python, no ``odoo`` import."""

from .server import LoopbackServer, Reply
from .feed_site import FeedSite, SampleComment, SampleEntry, sample_entries
from .x_api import XApi
from .mastodon_api import MastodonApi
from .bluesky_api import BlueskyServer
