"""The plain records every channel client produces: the only contract between
a platform and the ORM."""

from dataclasses import dataclass, field
from datetime import datetime

from . import values
from .errors import InvalidDataError


def _set(record, name, value):
    object.__setattr__(record, name, value)


def _key(record, name):
    """A key field: a non-empty string (an int id is read as its digits)."""
    value = getattr(record, name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    value = values.text(value).strip()
    if not value:
        raise InvalidDataError(f"no '{name}'")
    _set(record, name, value)


@dataclass(frozen=True)
class Author:
    """One account on one platform, as the platform describes it."""

    external_id: str
    handle: str = ""
    name: str = ""
    profile_url: str = ""
    avatar_url: str = ""
    bio: str = ""
    email: str = ""
    followers: int | None = None
    #: websites the platform itself verified as this account's (Mastodon
    #: profile fields with ``verified_at``, a Bluesky handle that is a domain)
    verified_websites: tuple[str, ...] = ()

    def __post_init__(self):
        """Every client's values checked in one place (see :mod:`.values`)."""
        _key(self, "external_id")
        for name in ("handle", "name", "bio", "email"):
            _set(self, name, values.text(getattr(self, name)))
        for name in ("profile_url", "avatar_url"):
            _set(self, name, values.web_url(getattr(self, name)))
        _set(self, "followers", values.count(self.followers, None))
        sites = self.verified_websites if isinstance(self.verified_websites, (tuple, list)) else ()
        _set(self, "verified_websites", tuple(url for url in map(values.web_url, sites) if url))


#: what a medium is; anything else a platform names is ``other``
MEDIA_KINDS = ("image", "video", "gif", "audio", "other")


@dataclass(frozen=True)
class Media:
    """An image, video or sound a post carries: kept as a link to the
    platform's copy with its alt text, never downloaded."""

    url: str
    kind: str = "image"
    alt: str = ""
    #: a still of a video, or a smaller image
    preview_url: str = ""

    def __post_init__(self):
        for name in ("url", "preview_url"):
            _set(self, name, values.web_url(getattr(self, name)))
        _set(self, "alt", values.text(self.alt).strip())
        if self.kind not in MEDIA_KINDS:
            _set(self, "kind", "other")


@dataclass(frozen=True)
class LinkCard:
    """The preview of a link a post shares (Bluesky ``embed.external``,
    Mastodon ``card``)."""

    url: str
    title: str = ""
    description: str = ""

    def __post_init__(self):
        _set(self, "url", values.web_url(self.url))
        for name in ("title", "description"):
            _set(self, name, values.text(getattr(self, name)).strip())


def _media(items):
    """The media with a link to show (their own, else their preview's)."""
    kept = []
    for item in items if isinstance(items, (tuple, list)) else ():
        if isinstance(item, Media) and (item.url or item.preview_url):
            kept.append(item if item.url else Media(item.preview_url, item.kind, item.alt, item.preview_url))
    return tuple(kept)


@dataclass(frozen=True)
class Post:
    """A post, reply, comment or private message.

    ``thread_key`` is the platform's own key of the conversation the post
    belongs to (X ``conversation_id``, a blog entry's id for its comments);
    ``parent_id`` the external id of the post it answers, if any.
    """

    external_id: str
    thread_key: str
    author_id: str
    body_html: str = ""
    title: str = ""
    url: str = ""
    posted_at: datetime | None = None
    parent_id: str = ""
    visibility: str = "public"
    direction: str = "inbound"
    language: str = ""
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    media: tuple[Media, ...] = ()
    link_card: LinkCard | None = None
    #: external id of the post this one quotes
    quoted_id: str = ""
    #: moderation and self-labels (Bluesky ``labels``), as the platform names them
    labels: tuple[str, ...] = ()
    #: the author's warning shown instead of the content (Mastodon ``spoiler_text``)
    content_warning: str = ""
    #: marked sensitive by its author or the platform (Mastodon, X)
    sensitive: bool = False
    #: the record's content id (Bluesky): a reply names its parent's and root's
    cid: str = ""

    def __post_init__(self):
        """Every client's values checked in one place (see :mod:`.values`):
        keys are required, the rest is coerced rather than refused."""
        for name in ("external_id", "thread_key", "author_id"):
            _key(self, name)
        for name in ("body_html", "title", "parent_id", "language", "quoted_id", "content_warning", "cid"):
            _set(self, name, values.text(getattr(self, name)))
        _set(self, "url", values.web_url(self.url))
        _set(self, "posted_at", values.moment(self.posted_at))
        if self.visibility not in ("public", "private"):
            _set(self, "visibility", "public")
        if self.direction not in ("inbound", "outbound"):
            _set(self, "direction", "inbound")
        for name in ("like_count", "repost_count", "reply_count"):
            _set(self, name, values.count(getattr(self, name)))
        _set(self, "media", _media(self.media))
        if not isinstance(self.link_card, LinkCard) or not self.link_card.url:
            _set(self, "link_card", None)
        labels = self.labels if isinstance(self.labels, (tuple, list)) else ()
        _set(self, "labels", tuple(dict.fromkeys(label.strip() for label in map(values.text, labels) if label.strip())))
        _set(self, "content_warning", self.content_warning.strip())
        _set(self, "sensitive", self.sensitive is True)


@dataclass(frozen=True)
class Batch:
    """One page of a pull: what it brought and the cursor that follows it.

    The cursor is saved only once the batch is stored, so a crash between two
    batches loses nothing and the next pull starts where the last stored one
    ended. ``not_modified`` means the source answered 304.
    """

    posts: tuple[Post, ...] = ()
    authors: tuple[Author, ...] = ()
    cursor: dict = field(default_factory=dict)
    not_modified: bool = False
    #: posts the platform billed us for reading (X counts reads per post)
    reads: int = 0
    #: seconds before the platform allows the next pull (rate limit spent)
    wait_seconds: int | None = None
    #: one short reason per item of the page the client could not read and
    #: skipped (never the item itself); the rest of the page is stored
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplyTarget:
    """The stored post a reply answers, as the pull recorded it.

    ``external_id`` and ``thread_key`` are the post's and its thread's keys;
    ``author_handle`` the handle a Mastodon reply mentions; ``cid`` and
    ``root_cid`` the content ids of the post and of its thread's root, which
    a Bluesky reply must name (looked up on the platform when missing).
    """

    external_id: str
    thread_key: str = ""
    author_handle: str = ""
    cid: str = ""
    root_cid: str = ""

    def __post_init__(self):
        _key(self, "external_id")
        for name in ("thread_key", "author_handle", "cid", "root_cid"):
            _set(self, name, values.text(getattr(self, name)).strip())


@dataclass(frozen=True)
class Recipient:
    """Whom a direct message goes to: the account's external id (X user
    id, Mastodon account URI, Bluesky DID) and its handle (a Mastodon
    direct message mentions ``acct@domain``)."""

    external_id: str
    handle: str = ""

    def __post_init__(self):
        _key(self, "external_id")
        _set(self, "handle", values.text(self.handle).strip().lstrip("@"))


@dataclass(frozen=True)
class Published:
    """What the platform made of a reply or direct message we sent.

    ``external_id`` and ``thread_key`` are built as a pull of the same post
    would build them (so that the next pull recognises it); ``text`` is the
    text as published (a Mastodon reply gains its mention); ``cid`` is the
    Bluesky record's content id."""

    external_id: str
    thread_key: str
    url: str = ""
    posted_at: datetime | None = None
    text: str = ""
    cid: str = ""

    def __post_init__(self):
        for name in ("external_id", "thread_key"):
            _key(self, name)
        _set(self, "url", values.web_url(self.url))
        _set(self, "posted_at", values.moment(self.posted_at))
        for name in ("text", "cid"):
            _set(self, name, values.text(getattr(self, name)))
