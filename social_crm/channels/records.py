"""The plain records every channel client produces: the only contract between
a platform and the ORM."""

from dataclasses import dataclass, field
from datetime import datetime


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
