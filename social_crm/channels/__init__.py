"""Pure-Python channel layer: platform APIs in, plain typed records out.

Nothing below this package imports ``odoo``: the ORM side (``models/``) turns
the records into Odoo values, so each platform client can be tested against a
real HTTP server without a database.
"""

from .base import ChannelClient, PlatformInfo, SourceSettings, client_for, modes, platforms
from .prefetch import prefetched
from .errors import (
    FAILURE_TYPES,
    AuthError,
    BudgetSpentError,
    ChannelError,
    ConfigError,
    InvalidDataError,
    NotFoundError,
    RateLimitedError,
    RefusedError,
    UnavailableError,
    UnsupportedError,
)
from .records import Author, Batch, LinkCard, Media, Post, Published, Recipient, ReplyTarget
from .transport import Response, Transport
from .values import html_to_text, without_remote_images

# each platform module registers its client, in the order selections list them
from . import feeds, x, mastodon, bluesky  # noqa: F401  isort: skip
