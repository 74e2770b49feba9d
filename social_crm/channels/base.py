"""What every platform client shares: the settings of the source it pulls and
the one method the sync calls."""

import logging
from dataclasses import dataclass, field

from .errors import InvalidDataError
from .transport import DEFAULT_MAX_BYTES, Transport
from .values import UNREADABLE

_logger = logging.getLogger(__name__)

_CLIENTS = {}


@dataclass(frozen=True)
class SourceSettings:
    """A source as a client needs it, detached from the ORM.

    ``target`` is what to pull (feed URL, account, search query, hashtag)
    and ``mode`` how to read it; ``credentials`` maps names to secrets that
    clients put in headers, never in messages or logs.
    """

    platform: str
    mode: str
    target: str
    api_url: str = ""
    credentials: dict = field(default_factory=dict, repr=False)
    allow_local: bool = False
    max_items: int = 200
    max_bytes: int = DEFAULT_MAX_BYTES
    #: reads left in the month for metered platforms (X); None: unmetered
    read_budget: int | None = None


def register(platform):
    """Class decorator: the client that pulls ``platform`` sources."""

    def wrap(cls):
        _CLIENTS[platform] = cls
        cls.platform = platform
        return cls

    return wrap


def client_for(settings, transport=None):
    """The client for ``settings.platform``, with a transport that follows
    the source's network policy."""
    cls = _CLIENTS[settings.platform]
    transport = transport or Transport(allow_local=settings.allow_local, max_bytes=settings.max_bytes)
    return cls(settings, transport)


class ChannelClient:
    """Pulls one source. Subclasses implement :meth:`pull`."""

    platform = None

    def __init__(self, settings, transport):
        self.settings = settings
        self.transport = transport
        #: secrets the client renewed during the pull (a refreshed session),
        #: for the ORM to store in the source's credential fields
        self.credential_updates = {}

    def pull(self, cursor):
        """Yield :class:`~.records.Batch` objects, oldest unseen first, each
        carrying the cursor to save once it is stored."""
        raise NotImplementedError

    def pull_safely(self, cursor):
        """:meth:`pull`, where whatever an unreadable answer makes a client
        raise besides a :class:`ChannelError` (a ``TypeError`` on a page of
        an unexpected shape) becomes an :class:`InvalidDataError` naming the
        platform: the sync stores the pages before it and says why it
        stopped, instead of an "unexpected error"."""
        try:
            yield from self.pull(cursor)
        except UNREADABLE as error:
            _logger.warning("%s client could not read an answer", self.platform, exc_info=True)
            raise InvalidDataError(
                f"{self.platform} sent an answer that could not be read ({type(error).__name__})"
            ) from error
