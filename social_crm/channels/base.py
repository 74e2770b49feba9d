"""What every platform client shares: the settings of the source it pulls and
the one method the sync calls."""

from dataclasses import dataclass, field

from .transport import DEFAULT_MAX_BYTES, Transport

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
