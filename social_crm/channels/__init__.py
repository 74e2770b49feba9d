"""Pure-Python channel layer: platform APIs in, plain typed records out.

Nothing below this package imports ``odoo``: the ORM side (``models/``) turns
the records into Odoo values, so each platform client can be tested against a
real HTTP server without a database.
"""

from .base import ChannelClient, SourceSettings, client_for
from .prefetch import prefetched
from .errors import (
    AuthError,
    BudgetSpentError,
    ChannelError,
    ConfigError,
    InvalidDataError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from .records import Author, Batch, Post
from .transport import Response, Transport
from .values import without_remote_images

# each platform module registers its client
from . import bluesky, feeds, mastodon, x  # noqa: F401
