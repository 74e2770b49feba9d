"""What every platform client shares: the facts of its platform, the settings
of the source it pulls and the one method the sync calls."""

import logging
from dataclasses import dataclass, field

from .errors import AuthError, ConfigError, InvalidDataError, UnsupportedError
from .transport import DEFAULT_MAX_BYTES, Transport
from .values import UNREADABLE

_logger = logging.getLogger(__name__)

_CLIENTS = {}


@dataclass(frozen=True)
class PlatformInfo:
    """What a platform is, declared by its client and read by the ORM side
    (selections, defaults, credential fields): one place per fact.

    ``modes`` are ``(code, label)`` pairs, the first one the default;
    ``credential_fields`` maps the client's credential keys to the
    ``social.source`` fields that hold them; ``renewed_credentials`` are
    the keys the client renews itself (a session), never typed by a person.
    """

    name: str
    label: str
    modes: tuple
    default_api_url: str = ""
    credential_fields: dict = field(default_factory=dict)
    renewed_credentials: tuple = ()
    #: the platform bills each post read (a monthly read budget applies)
    metered: bool = False
    #: the client publishes replies (:meth:`ChannelClient.publish`)
    publishes: bool = False
    #: the client sends direct messages (:meth:`ChannelClient.send_direct`)
    direct_messages: bool = False
    #: the most a post may hold (characters, graphemes on Bluesky); 0: no limit
    max_length: int = 0

    @property
    def mode_codes(self):
        return tuple(code for code, _label in self.modes)


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


def register(cls):
    """Class decorator: ``cls`` pulls the sources of the platform its
    ``info`` declares."""
    _CLIENTS[cls.info.name] = cls
    cls.platform = cls.info.name
    return cls


def platforms():
    """The :class:`PlatformInfo` of every registered client, in the order
    the clients were registered."""
    return tuple(cls.info for cls in _CLIENTS.values())


def modes():
    """Every platform's modes as one ``(code, label)`` list, each code once:
    platforms that share a mode must agree on its label."""
    labels = {}
    for info in platforms():
        for code, label in info.modes:
            if labels.setdefault(code, label) != label:
                raise ValueError(f"mode {code!r} is labelled both {labels[code]!r} and {label!r}")
    return list(labels.items())


def client_for(settings, transport=None):
    """The client for ``settings.platform``, with a transport that follows
    the source's network policy."""
    cls = _CLIENTS[settings.platform]
    transport = transport or Transport(allow_local=settings.allow_local, max_bytes=settings.max_bytes)
    return cls(settings, transport)


class ChannelClient:
    """Pulls one source. Subclasses declare their platform's ``info`` and
    implement :meth:`_pull`."""

    info = None
    platform = None

    def __init__(self, settings, transport):
        self.settings = settings
        self.transport = transport
        #: secrets the client renewed during the pull (a refreshed session),
        #: for the ORM to store in the source's credential fields
        self.credential_updates = {}
        #: the author id (as in ``Post.author_id``) of the account the pull
        #: runs as, once the client knows it: the ORM records it on the
        #: source, so that sources that cannot tell (a search with an
        #: app-only token) still see that account's posts as outbound
        self.account_id = ""

    def pull(self, cursor):
        """Yield :class:`~.records.Batch` objects, oldest unseen first, each
        carrying the cursor to save once it is stored. A mode the platform
        does not have is a :class:`ConfigError`."""
        codes = self.info.mode_codes
        if self.settings.mode not in codes:
            raise ConfigError(f"{self.info.label} sources pull {', '.join(codes)}; not {self.settings.mode!r}")
        try:
            yield from self._pull(cursor)
        except AuthError as error:
            # a 401 to a source without credentials: reconnecting would not help
            if not error.refusal or error.refusal[1] != 401 or any(self.settings.credentials.values()):
                raise
            where, _status, answer = error.refusal
            raise AuthError(
                f"{where} asks for credentials ({answer}); {self.needs_credentials()}", refusal=error.refusal
            ) from None

    def needs_credentials(self, which=""):
        """What to say of a source that has no credentials and needs them
        (``which``, if only some would do)."""
        which = f" ({which})" if which else ""
        return f"the {self.info.label} source needs credentials{which}: an administrator must enter them"

    def _pull(self, cursor):
        """:meth:`pull` for a mode of the platform."""
        raise NotImplementedError

    def publish(self, text, reply_to=None, visibility=None, idempotency_key=None):
        """Publish ``text`` as the source's account: a reply to the
        :class:`~.records.ReplyTarget` ``reply_to``, else a new post.
        ``visibility`` is the platform's own (Mastodon ``public``,
        ``unlisted``, ``private``, ``direct``); None keeps the thread's.
        ``idempotency_key``, the same for every attempt at one message, lets
        a platform that supports it (Mastodon) publish it once even when an
        answer was lost and the message is sent again.
        Returns :class:`~.records.Published`; a refusal raises a
        :class:`~.errors.ChannelError` quoting the platform (a
        :class:`~.errors.RefusedError` for the content, an
        :class:`~.errors.AuthError` for revoked or expired credentials)."""
        raise UnsupportedError(f"{self.info.label} has no API to publish replies")

    def send_direct(self, recipient, text, idempotency_key=None):
        """Send ``text`` privately to the :class:`~.records.Recipient`;
        returns :class:`~.records.Published`, raises as :meth:`publish`."""
        raise UnsupportedError(f"{self.info.label} has no direct messages we can send")

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
