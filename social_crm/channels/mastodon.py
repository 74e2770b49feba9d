"""Mastodon, any instance, through its REST API: mention notifications,
hashtag timelines and direct conversations, with the thread context of replies.

Identifiers. Status and account ids are local to the instance we ask, so a
post's external id is ``<instance>:<status id>``: replies name their parent
by that local id (``in_reply_to_id``), which keeps parent and thread keys
buildable without the parent in hand. A direct conversation threads by its
own id (``<instance>:conversation:<id>``), as its earlier messages may be out
of reach. An author's external id is the account's ActivityPub ``uri``
(``url`` on servers older than 4.2): the same person seen from two instances
stays one author.

Paging. Lists come newest first with a ``Link`` header. The cursor
``{"since_id": ..., "account_id": ...}`` holds the newest paging id stored;
the next pull asks ``min_id=since_id``, which returns the page just after
it, and walks the ``prev`` links towards the present, so every batch's cursor
is safe to save. A first pull reads back up to ``max_items`` and hands the
pages over oldest first, for the same reason. Servers cap pages below the
limit asked: a short page that links further is not the last.
"""

import logging
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

import lxml.html
from requests.utils import parse_header_links

from . import values
from .base import ChannelClient, PlatformInfo, register
from .errors import AuthError, ConfigError, InvalidDataError, NotFoundError, RefusedError
from .records import Author, Batch, LinkCard, Media, Post, Published
from .transport import answer_text, safe_url

_logger = logging.getLogger(__name__)

#: context calls per pull: a reply beyond them keeps its best-known root
MAX_CONTEXT_CALLS = 40
#: Mastodon's rate-limit window, if a spent quota comes without a reset time
DEFAULT_WAIT_SECONDS = 300
#: Mastodon visibilities that are not public; ``direct`` is a private message
PRIVATE_VISIBILITIES = {"direct", "private", "limited"}
#: what a status may be published as
VISIBILITIES = ("public", "unlisted", "private", "direct")
#: conversations read to find the one a new direct message started
DIRECT_LOOKUP = 5
#: Mastodon attachment types as our media kinds (``unknown``: other)
MEDIA_KINDS = {"image": "image", "video": "video", "gifv": "gif", "audio": "audio"}


class _Page(NamedTuple):
    items: list
    where: str
    newest: str | None
    oldest: str | None
    #: the ``rel`` of the ``Link`` header's links: ``next`` (older), ``prev`` (newer)
    links: frozenset


@dataclass(frozen=True)
class _Mode:
    """How one mode lists its items (``kind``: notifications, statuses or
    conversations) and how large a page may be."""

    kind: str
    path: str
    page_max: int
    needs_token: bool
    params: tuple = ()

    def statuses(self, item, where):
        """The statuses an item of the list carries."""
        if self.kind == "notifications":
            return [values.required(item, "status", f"{where} sent mention notification {item.get('id')}", dict)]
        if self.kind == "conversations":
            # a conversation whose last status was deleted has none
            return [item["last_status"]] if item.get("last_status") else []
        return [item]

    def paging_id(self, item):
        """The id pages are keyed by, for a server that sent no ``Link``:
        conversations page by their last status."""
        if not isinstance(item, dict):
            return None
        if self.kind == "conversations":
            item = item.get("last_status")
        value = item.get("id") if isinstance(item, dict) else None
        return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _modes(target):
    tag = target.strip().lstrip("#")
    return {
        "mentions": _Mode("notifications", "/api/v1/notifications", 80, True, (("types[]", "mention"),)),
        "hashtag": _Mode("statuses", f"/api/v1/timelines/tag/{quote(tag, safe='')}", 40, False) if tag else None,
        "dm": _Mode("conversations", "/api/v1/conversations", 40, True),
    }


def _fragment(value):
    return lxml.html.fragment_fromstring(value, create_parent="div")


def verified_websites(fields):
    """Links of the profile fields the instance verified (``verified_at``):
    it found a ``rel="me"`` link back to the profile on that page."""
    sites = []
    for field in fields if isinstance(fields, list) else ():
        if not isinstance(field, dict) or not field.get("verified_at") or not values.text(field.get("value")).strip():
            continue
        root = _fragment(field["value"])
        links = root.xpath(".//a/@href") or [root.text_content().strip()]
        sites.extend(link for link in map(values.web_url, links) if link)
    return tuple(dict.fromkeys(sites))


def _media(attachments):
    """``media_attachments``: the instance's copy, else the original
    (``remote_url``: an attachment of a remote post not cached)."""
    return tuple(
        Media(
            url=values.web_url(item.get("url")) or item.get("remote_url"),
            kind=MEDIA_KINDS.get(item.get("type"), "other"),
            alt=item.get("description"),
            preview_url=item.get("preview_url"),
        )
        for item in (attachments if isinstance(attachments, list) else ())
        if isinstance(item, dict)
    )


def _card(card):
    if not isinstance(card, dict):
        return None
    return LinkCard(url=card.get("url"), title=card.get("title"), description=card.get("description"))


def _quoted(status):
    """The status an accepted quote (Mastodon 4.5 ``quote``) shows."""
    quoting = status.get("quote")
    if not isinstance(quoting, dict) or quoting.get("state") != "accepted":
        return None
    quoted = quoting.get("quoted_status")
    return quoted.get("id") if isinstance(quoted, dict) and isinstance(quoted.get("id"), (str, int)) else None


def _count(value):
    """A counter, or None when absent or hidden (negative)."""
    return values.count(value, None)


@register
class MastodonClient(ChannelClient):
    """Pulls one mode of one account (or one public hashtag) of an instance."""

    info = PlatformInfo(
        name="mastodon",
        label="Mastodon",
        modes=(("mentions", "Mentions of the account"), ("hashtag", "Hashtag"), ("dm", "Direct messages")),
        default_api_url="https://mastodon.social",
        credential_fields={"access_token": "access_token"},
        publishes=True,
        direct_messages=True,
        max_length=500,
    )

    def __init__(self, settings, transport):
        super().__init__(settings, transport)
        self._own_id = None
        #: seconds until the quota renews, once a response said it is spent
        self._wait = None
        #: status id -> its thread key, for every status this pull met
        self._threads = {}
        self._context_calls = 0
        #: (account id, uri, note, followers) -> Author, for this pull
        self._authors = {}

    def _pull(self, cursor):
        mode = self._mode()
        cursor = dict(cursor or {})
        self._wait, self._threads, self._context_calls = None, {}, 0
        if self._token and not cursor.get("account_id"):
            # the connected account never changes under a token: ask once
            account, response = self._get_json("/api/v1/accounts/verify_credentials", dict, "the connected account")
            where = f"{safe_url(response.url)} sent the connected account"
            cursor["account_id"] = str(values.required(account, "id", where, (str, int)))
            self.account_id = self._author(account, where).external_id
        self._own_id = cursor.get("account_id")
        if cursor.get("since_id"):
            pages = self._newer_pages(mode, cursor["since_id"])
        else:
            pages = self._latest_pages(mode)
        yielded = False
        for page in pages:
            if page.newest:
                cursor = {**cursor, "since_id": str(page.newest)}
            yielded = True
            yield self._batch(mode, page, cursor)
        if not yielded:
            yield Batch(cursor=cursor, wait_seconds=self._wait)

    # ------------------------------------------------------------------
    # Publishing
    # ------------------------------------------------------------------

    def publish(self, text, reply_to=None, visibility=None, idempotency_key=None):
        """A status, or a reply (``in_reply_to_id``) that mentions the author
        of the status it answers, as Mastodon's own clients do (a reply
        without the mention notifies no one), with that status's visibility
        unless ``visibility`` says otherwise."""
        if visibility is not None and visibility not in VISIBILITIES:
            raise ConfigError(f"Mastodon statuses are {', '.join(VISIBILITIES)}; not {visibility!r}")
        self._check_can_publish()
        body = {"status": text, "visibility": visibility or "public"}
        if reply_to:
            parent_id = self._local_id(reply_to.external_id)
            parent, _response = self._get_json(f"/api/v1/statuses/{quote(parent_id, safe='')}", dict, "the status")
            account = parent.get("account") if isinstance(parent.get("account"), dict) else {}
            own = account.get("id") is not None and str(account.get("id")) == self._connected_id()
            body["status"] = text if own else self._mentioning(text, values.text(account.get("acct")))
            body["in_reply_to_id"] = parent_id
            body["visibility"] = visibility or (
                parent["visibility"] if parent.get("visibility") in VISIBILITIES else "public"
            )
        status = self._post_status(body, idempotency_key)
        key = self._key(status["id"])
        thread = (reply_to.thread_key or reply_to.external_id) if reply_to else key
        return self._published(status, key, thread, body["status"])

    def send_direct(self, recipient, text, idempotency_key=None):
        """A ``direct`` status that mentions the recipient (``acct@domain``),
        threaded as a pull of our direct conversations will thread it."""
        self._check_can_publish()
        if not recipient.handle:
            raise ConfigError("a Mastodon direct message needs the recipient's handle (user@instance)")
        body = {"status": self._mentioning(text, recipient.handle), "visibility": "direct"}
        status = self._post_status(body, idempotency_key)
        key = self._key(status["id"])
        conversations, _response = self._get_json(
            "/api/v1/conversations", list, "its conversations", [("limit", DIRECT_LOOKUP)]
        )
        started = next(
            (
                item
                for item in conversations
                if isinstance(item, dict)
                and isinstance(item.get("last_status"), dict)
                and str(item["last_status"].get("id")) == str(status["id"])
            ),
            None,
        )
        thread = self._conversation_key(started, "Mastodon") if started else key
        return self._published(status, key, thread, body["status"])

    def _check_can_publish(self):
        if not self.settings.api_url.strip():
            raise ConfigError("the Mastodon source has no instance URL (e.g. https://mastodon.social)")
        if not self._token:
            raise AuthError(self.needs_credentials("an access token"))

    def _connected_id(self):
        """The id of the account the token belongs to, asked once."""
        if self._own_id is None:
            account, response = self._get_json("/api/v1/accounts/verify_credentials", dict, "the connected account")
            self._own_id = str(values.required(account, "id", f"{safe_url(response.url)} sent the account", (str, int)))
        return self._own_id

    def _local_id(self, external_id):
        """The status id on this instance of a post we stored as
        ``<instance>:<id>``; a post seen through another instance has
        another id here."""
        instance, _sep, status_id = external_id.rpartition(":")
        if instance != self._instance or not status_id:
            raise ConfigError(
                f"the post {external_id} was not pulled from {self._instance}: answer it from a source of its instance"
            )
        return status_id

    @staticmethod
    def _mentioning(text, acct):
        """``text`` that mentions ``@acct``, first, unless it already does."""
        if not acct:
            return text
        mention = "@" + acct.lstrip("@")
        words = {word.rstrip(".,:;!?").lower() for word in text.split()}
        local = mention.split("@")[1].lower()
        return text if mention.lower() in words or f"@{local}" in words else f"{mention} {text}"

    def _post_status(self, body, idempotency_key=None):
        """``POST /api/v1/statuses``: the Status it created (or, for a key
        already used, the one it created then); a 422 is the instance
        refusing the status, in its own words."""
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = self.transport.request(
            "POST", self._base + "/api/v1/statuses", json_body=body, headers=headers, expected=(200, 422)
        )
        if response.status == 422:
            said = answer_text(response, (self._token,)) or "HTTP 422"
            raise RefusedError(f"Mastodon refused the status: {said}")
        status = values.read_json(response)
        where = f"{safe_url(response.url)} sent the new status"
        values.required(status, "id", where, (str, int))
        return status

    def _published(self, status, key, thread, text):
        return Published(
            external_id=key,
            thread_key=thread,
            url=values.web_url(status.get("url")) or status.get("uri"),
            posted_at=values.parse_date(status.get("created_at")),
            text=text,
        )

    # ------------------------------------------------------------------
    # Requests
    # ------------------------------------------------------------------

    def _mode(self):
        if not self.settings.api_url.strip():
            raise ConfigError("the Mastodon source has no instance URL (e.g. https://mastodon.social)")
        mode = _modes(self.settings.target)[self.settings.mode]
        if mode is None:
            raise ConfigError("the Mastodon hashtag source has no hashtag to pull")
        if mode.needs_token and not self._token:
            raise AuthError(self.needs_credentials("an access token"))
        return mode

    @property
    def _base(self):
        url = self.settings.api_url.strip().rstrip("/")
        return url if "://" in url else f"https://{url}"  # "mastodon.social" as typed

    @property
    def _instance(self):
        return urlsplit(self._base).netloc.lower()

    @property
    def _domain(self):
        """The instance's domain as its handles show it: the host, with its
        port unless it is the scheme's default (``localhost:3000``)."""
        parts = urlsplit(self._base)
        default = 443 if parts.scheme == "https" else 80
        return parts.hostname if parts.port in (None, default) else f"{parts.hostname}:{parts.port}"

    @property
    def _token(self):
        return self.settings.credentials.get("access_token")

    def _get(self, path, params):
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        response = self.transport.request("GET", self._base + path, params=params, headers=headers)
        wait = response.quota_wait("x-ratelimit-remaining", "x-ratelimit-reset", DEFAULT_WAIT_SECONDS)
        if wait is not None:
            self._wait = wait
        return response

    def _get_json(self, path, kind, what, params=()):
        """The JSON body of a GET, checked to be a ``kind`` (a list: of
        objects), and the response."""
        response = self._get(path, params)
        data = values.read_json(response)
        # a list's items are checked one by one when read: one bad item is skipped
        if not isinstance(data, kind):
            raise InvalidDataError(f"{safe_url(response.url)} sent {what} in an unexpected shape")
        return data, response

    def _page(self, mode, params):
        """One list page, newest first, with the paging ids of its two ends:
        from the ``Link`` header, else from the items themselves."""
        items, response = self._get_json(mode.path, list, f"its {mode.kind}", [*mode.params, *params.items()])
        links = {
            link.get("rel"): dict(parse_qsl(urlsplit(link.get("url", "")).query))
            for link in parse_header_links(response.header("link"))
        }
        return _Page(
            items=items,
            where=safe_url(response.url),
            newest=links.get("prev", {}).get("min_id") or (mode.paging_id(items[0]) if items else None),
            oldest=links.get("next", {}).get("max_id") or (mode.paging_id(items[-1]) if items else None),
            links=frozenset(links),
        )

    @staticmethod
    def _last_page(page, rel, limit, bound, previous):
        """Whether no page follows ``page`` towards ``rel``. Servers cap
        pages below the limit asked, so a short page with a ``rel`` link is
        not the last; without a ``Link`` header, a short page is. A bound
        that does not move ends the walk rather than asking again."""
        if not page.items or not bound or bound == previous:
            return True
        return rel not in page.links and len(page.items) < limit

    def _newer_pages(self, mode, since_id):
        """Pages after ``since_id``, oldest first, fetched one at a time so a
        crash between two leaves a cursor that resumes exactly."""
        min_id, budget = since_id, self.settings.max_items
        while budget > 0 and self._wait is None:
            limit = min(mode.page_max, budget)
            page = self._page(mode, {"min_id": min_id, "limit": limit})
            if page.items:  # the empty page that says the walk reached the present is no batch
                yield page
            if self._last_page(page, "prev", limit, page.newest, min_id):
                return
            min_id, budget = page.newest, budget - len(page.items)

    def _latest_pages(self, mode):
        """A first pull: the newest ``max_items``, read newest first by
        ``max_id`` and handed over oldest first."""
        pages, max_id, budget = [], None, self.settings.max_items
        while budget > 0 and self._wait is None:
            limit = min(mode.page_max, budget)
            page = self._page(mode, {"max_id": max_id, "limit": limit} if max_id else {"limit": limit})
            if page.items:
                pages.append(page)
            if self._last_page(page, "next", limit, page.oldest, max_id):
                break
            max_id, budget = page.oldest, budget - len(page.items)
        return reversed(pages)

    # ------------------------------------------------------------------
    # Records
    # ------------------------------------------------------------------

    def _batch(self, mode, page, cursor):
        """One page's posts and authors. An item that cannot be read is
        skipped with its reason; what it added before failing is dropped."""
        posts, authors, where, skipped = {}, {}, page.where, []
        for item in reversed(page.items):  # oldest first: parents before replies
            item_posts, item_authors = dict(posts), dict(authors)
            try:
                if not isinstance(item, dict):
                    raise InvalidDataError("not an object")
                thread = self._conversation_key(item, where) if mode.kind == "conversations" else None
                for status in mode.statuses(item, where):
                    self._add_status(status, item_posts, item_authors, where, thread)
                for account in item.get("accounts") or ():  # conversation participants
                    author = self._author(account, where)
                    item_authors[author.external_id] = author
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason(self._label(mode, item), error))
                continue
            posts, authors = item_posts, item_authors
        return Batch(
            posts=tuple(posts.values()),
            authors=tuple(authors.values()),
            cursor=cursor,
            wait_seconds=self._wait,
            skipped=tuple(skipped),
        )

    @staticmethod
    def _label(mode, item):
        """``status 123`` for a skip reason, never the item itself."""
        what = {"notifications": "notification", "statuses": "status", "conversations": "conversation"}[mode.kind]
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, (str, int)) and not isinstance(item_id, bool) and len(str(item_id)) < 40:
            return f"{what} {item_id}"
        return what

    def _conversation_key(self, conversation, where):
        """The thread key of a private exchange: its conversation, which
        holds every message of it, whichever statuses this pull can read."""
        conversation_id = values.required(conversation, "id", f"{where} sent a conversation", (str, int))
        return f"{self._instance}:conversation:{conversation_id}"

    def _add_status(self, status, posts, authors, where, thread=None, context=True):
        """Add ``status`` unless this pull already did, in ``thread`` when
        known (a conversation's key). A reply whose parent this pull has not
        met brings its ancestors from ``/context`` (so its parent exists),
        unless ``context`` is off (the ancestors themselves); without a
        known thread, it joins theirs. A boost stands for the status it
        boosts: that is the content."""
        if isinstance(status, dict) and status.get("reblog"):
            status = status["reblog"]
        status_id = values.required(status, "id", f"{where} sent a status", (str, int))
        if not isinstance(status_id, (str, int)) or isinstance(status_id, bool):
            raise InvalidDataError(f"{where} sent a status with an unreadable 'id'")
        status_id = str(status_id)
        if status_id in self._threads:
            return
        parent = str(status.get("in_reply_to_id") or "")
        if parent and thread is None:
            thread = self._threads.get(parent) or self._thread_from_context(status_id, parent, posts, authors, where)
        elif parent and context and parent not in self._threads:
            self._thread_from_context(status_id, parent, posts, authors, where, thread)
        thread = thread or self._key(status_id)
        self._threads[status_id] = thread
        author = self._author(values.required(status, "account", f"{where} sent status {status_id}", dict), where)
        authors[author.external_id] = author
        posts[status_id] = self._post(status, status_id, thread, author)

    def _thread_from_context(self, status_id, parent, posts, authors, where, thread=None):
        """The thread key of a reply: ``thread`` if known, else its root's,
        from ``/context`` (ancestors, root first), whose ancestors join it.
        Past the per-pull cap, with the quota spent or the status gone, the
        parent stands in as the best-known root."""
        fallback = thread or self._key(parent)
        if self._context_calls >= MAX_CONTEXT_CALLS or self._wait is not None:
            return fallback
        self._context_calls += 1
        try:
            context, response = self._get_json(
                f"/api/v1/statuses/{quote(status_id, safe='')}/context", dict, f"the context of status {status_id}"
            )
        except NotFoundError:
            _logger.info("Mastodon status %s vanished before its context was read", status_id)
            return fallback
        except InvalidDataError as error:
            _logger.info("Mastodon status %s: context unreadable (%s)", status_id, error.message)
            return fallback
        ancestors = context.get("ancestors")
        if not isinstance(ancestors, list) or not ancestors:
            return fallback
        where = safe_url(response.url)
        root = values.required(ancestors[0], "id", f"{where} sent an ancestor status", (str, int))
        thread = thread or self._key(root)
        for ancestor in ancestors:
            try:
                self._add_status(ancestor, posts, authors, where, thread, context=False)
            except values.ITEM_ERRORS as error:  # context only: the reply itself is read
                _logger.info("Mastodon status %s: an ancestor is unreadable (%s)", status_id, error)
        return thread

    def _key(self, status_id):
        return f"{self._instance}:{status_id}"

    def _post(self, status, status_id, thread, author):
        parent = status.get("in_reply_to_id")
        account_id = str(status["account"].get("id"))
        quoted = _quoted(status)
        if account_id == self._own_id:
            # a cursor that knows the account id spares verify_credentials
            self.account_id = author.external_id
        return Post(
            external_id=self._key(status_id),
            thread_key=thread,
            author_id=author.external_id,
            body_html=status.get("content"),
            title=status.get("spoiler_text"),  # the content warning
            url=values.web_url(status.get("url")) or status.get("uri"),
            posted_at=values.parse_date(status.get("created_at")),
            parent_id=self._key(parent) if parent else "",
            visibility="private" if status.get("visibility") in PRIVATE_VISIBILITIES else "public",
            direction="outbound" if account_id == self._own_id else "inbound",
            language=status.get("language"),
            like_count=_count(status.get("favourites_count")) or 0,
            repost_count=_count(status.get("reblogs_count")) or 0,
            reply_count=_count(status.get("replies_count")) or 0,
            media=_media(status.get("media_attachments")),
            link_card=_card(status.get("card")),
            quoted_id=self._key(quoted) if quoted is not None else "",
            content_warning=status.get("spoiler_text"),
            sensitive=status.get("sensitive"),
        )

    def _author(self, account, where):
        """The ``Author`` of ``account``, built once per account and pull:
        the same accounts come back on every page."""
        key = (account.get("id"), account.get("uri"), account.get("note"), account.get("followers_count"))
        if key not in self._authors:
            self._authors[key] = self._read_author(account, where)
        return self._authors[key]

    def _read_author(self, account, where):
        account_id = values.required(account, "id", f"{where} sent an account", (str, int))
        external_id = values.text(account.get("uri")) or values.text(account.get("url"))
        if not external_id:
            raise InvalidDataError(f"{where} sent account {account_id} without 'uri' or 'url'")
        acct = values.text(account.get("acct")) or values.text(account.get("username"))
        # local accounts' acct has no domain: make the handle global
        handle = acct if not acct or "@" in acct else f"{acct}@{self._domain}"
        return Author(
            external_id=external_id,
            handle=handle,
            name=values.text(account.get("display_name")) or account.get("username"),
            profile_url=account.get("url"),
            avatar_url=account.get("avatar"),
            bio=values.html_to_text(account.get("note")),
            followers=_count(account.get("followers_count")),
            verified_websites=verified_websites(account.get("fields")),
        )
