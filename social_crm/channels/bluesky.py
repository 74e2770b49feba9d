"""Bluesky through AT Protocol XRPC: the mentions of, replies to and quotes
of the connected account, or a post search, with the conversations they
belong to.

An app password opens a session whose short-lived access token is renewed
with the refresh token, or by a new session once that is refused too; the
renewed tokens go to ``credential_updates`` so that the next pull reuses them
(Bluesky allows only a few new sessions a day). Authors keep their DID, the
id that never changes, and their handle, which can; a handle that is a domain
name is a website Bluesky verified as theirs. Listings are ordered by sort
time, min(createdAt, indexedAt), and filtered after fetching: see
:meth:`BlueskyClient._paged`.
"""

import base64
import html
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import regex

from . import values
from .base import ChannelClient, PlatformInfo, register
from .errors import AuthError, ConfigError, InvalidDataError, NotFoundError, RefusedError, UnsupportedError
from .records import Author, Batch, LinkCard, Media, Post, Published
from .transport import platform_says

_logger = logging.getLogger(__name__)

WEB_URL = "https://bsky.app"
PAGE_SIZE = 100  # the most listNotifications and searchPosts return
LOOKUP_SIZE = 25  # the most uris / actors getPosts and getProfiles take
MAX_THREAD_FETCHES = 20  # getPostThread calls per pull
MAX_PARENT_HEIGHT = 80  # ancestors getPostThread returns above a post
LOW_QUOTA = 30  # calls one more page may cost: list, posts, threads, profiles
QUOTA_WINDOW = 300  # Bluesky counts calls per five minutes
#: a quote of one of our posts is a conversation about us too
REASONS = ("mention", "reply", "quote")
#: How far below the watermark each pull reads again. Both listings sort by
#: min(createdAt, indexedAt): a post written before a pull but indexed after
#: it lands below that pull's watermark.
OVERLAP = timedelta(hours=1)
MAX_RECENT = 1000  # URIs handled within the overlap that the cursor keeps
#: pages one pull reads: the AppView filters by reason after fetching, so a
#: page may be empty and still have a cursor (400 likes above two mentions)
MAX_PAGES = 50
TOKEN_ERRORS = ("ExpiredToken", "InvalidToken")
#: handles under a hosting service's domain: not a website of their own
SERVICE_HANDLE_SUFFIXES = (".bsky.social",)
INVALID_HANDLE = "handle.invalid"
#: labels on who may see a post, not on what it shows
AUDIENCE_LABELS = ("!no-unauthenticated", "!no-promote")
#: what a post's text may hold: graphemes (as people count characters) and bytes
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
#: a link in a post we publish, made a link facet (Bluesky renders no bare URL)
LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")


def graphemes(text):
    """How many user-perceived characters ``text`` has (extended grapheme
    clusters): an emoji with a skin tone or a flag counts once, as Bluesky
    counts them."""
    return len(regex.findall(r"\X", text))


def link_facets(text):
    """Link facets of the URLs in ``text``, at their UTF-8 byte offsets."""
    facets = []
    for match in LINK.finditer(text):
        start = len(text[: match.start()].encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(match.group(0).encode("utf-8"))},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}],
            }
        )
    return facets


def post_url(uri, handle=""):
    """The bsky.app address of the post ``uri`` (``at://did/collection/rkey``)."""
    did = uri.removeprefix("at://").split("/", 1)[0]
    profile = quote(_profile_key(handle, did), safe=":@")
    return f"{WEB_URL}/profile/{profile}/post/{quote(uri.rsplit('/', 1)[-1], safe='')}"


def _label(item, what):
    """``post at://…`` for a skip reason, never the item itself."""
    uri = item.get("uri") if isinstance(item, dict) else None
    return f"{what} {uri}" if isinstance(uri, str) and len(uri) < 120 else what


def _sort_time(item, what):
    """Where the AppView places an item: min(createdAt, indexedAt), which a
    notification's ``indexedAt`` already is."""
    moment = values.parse_date(values.required(item, "indexedAt", f"Bluesky sent {what}"))
    if moment is None:
        raise InvalidDataError(f"Bluesky sent {what} with an unreadable 'indexedAt'")
    record = item.get("record") if isinstance(item.get("record"), dict) else {}
    created = values.parse_date(record.get("createdAt"))
    return min(moment, created) if created else moment


def _stamp(moment):
    return moment.isoformat() if moment else ""


def _page_cursor(data):
    """The cursor of the next page: an empty page may have one too."""
    cursor = data.get("cursor")
    return cursor if isinstance(cursor, str) and cursor else None


def _recent_uris(pairs, floor):
    """``{uri: sort time}`` of the handled items above ``floor``, from the
    cursor's ``[[stamp, uri], ...]``."""
    recent = {}
    for pair in pairs if isinstance(pairs, list) else ():
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str):
            moment = values.parse_date(pair[0])
            if moment and (floor is None or moment > floor):
                recent[pair[1]] = moment
    return recent


def _kept_uris(recent, floor):
    """The cursor's ``recent``: the newest handled items above ``floor``."""
    newest_first = sorted(recent.items(), key=lambda pair: pair[1], reverse=True)
    return [[_stamp(moment), uri] for uri, moment in newest_first[:MAX_RECENT] if floor is None or moment > floor]


def _chunks(items, size=LOOKUP_SIZE):
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _jwt_subject(token):
    """The DID a session token was issued to (its ``sub`` claim), read
    without verifying it: only to tell our own posts from others'."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return ""
    return claims.get("sub", "") if isinstance(claims, dict) else ""


def _profile_key(handle, did):
    """Bluesky web links use the handle, or the DID when the handle failed
    verification."""
    return handle if handle and handle != INVALID_HANDLE else did


def verified_websites(handle):
    """A handle that is a domain name is one its owner proved to control
    (DNS TXT record or ``/.well-known/atproto-did``)."""
    if not handle or handle == INVALID_HANDLE or "." not in handle or handle.endswith(SERVICE_HANDLE_SUFFIXES):
        return ()
    return (f"https://{handle}",)


def login_identifier(identifier):
    """The identifier createSession expects: a handle written ``@handle``
    loses its ``@``, since the PDS reads any identifier with an ``@`` as an
    email address (and would refuse it as unknown)."""
    identifier = (identifier or "").strip()
    handle = identifier.removeprefix("@")
    return handle if "@" not in handle else identifier


def _facet_href(feature):
    kind = feature.get("$type", "")
    if kind == "app.bsky.richtext.facet#link":
        uri = feature.get("uri", "")
        return uri if uri.startswith(("https://", "http://")) and not any(c.isspace() for c in uri) else ""
    if kind == "app.bsky.richtext.facet#mention" and feature.get("did"):
        return f"{WEB_URL}/profile/{quote(feature['did'], safe=':')}"
    if kind == "app.bsky.richtext.facet#tag" and feature.get("tag"):
        return f"{WEB_URL}/hashtag/{quote(feature['tag'])}"
    return ""


def render_text(text, facets=None):
    """Post text as escaped HTML; facets, which address UTF-8 byte ranges,
    become the links they stand for (a link's text is often shortened)."""
    if not isinstance(text, str) or not text:
        return ""
    data = text.encode("utf-8")
    spans = []
    for facet in facets if isinstance(facets, list) else ():
        index = facet.get("index") if isinstance(facet, dict) else None
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(index, dict) or not isinstance(features, list) or not features:
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        href = _facet_href(features[0]) if isinstance(features[0], dict) else ""
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data) and href:
            spans.append((start, end, href))

    def escape(chunk):
        return html.escape(chunk.decode("utf-8", "replace")).replace("\n", "<br>")

    parts, position = [], 0
    for start, end, href in sorted(spans):
        if start < position:
            continue  # overlapping facets: keep the first
        parts.append(escape(data[position:start]))
        parts.append(f'<a href="{html.escape(href)}">{escape(data[start:end])}</a>')
        position = end
    parts.append(escape(data[position:]))
    return f"<p>{''.join(parts)}</p>"


def _dict(value):
    return value if isinstance(value, dict) else {}


def read_embed(embed):
    """``(media, link card, quoted record)`` of a post view's ``embed``:
    images, video, an external link card, a quoted post (``record``: a
    ``viewRecord``, or a ``viewNotFound``/``viewBlocked``/``viewDetached``
    that has only its uri), or a quote with media (``recordWithMedia``)."""
    embed = _dict(embed)
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia#view":
        media, card, _quoted = read_embed(embed.get("media"))
        return media, card, _dict(_dict(embed.get("record")).get("record"))
    if kind == "app.bsky.embed.record#view":
        return (), None, _dict(embed.get("record"))
    if kind == "app.bsky.embed.images#view":
        images = embed.get("images") if isinstance(embed.get("images"), list) else ()
        media = tuple(
            Media(url=image.get("fullsize"), alt=image.get("alt"), preview_url=image.get("thumb"))
            for image in images
            if isinstance(image, dict)
        )
        return media, None, {}
    if kind == "app.bsky.embed.video#view":
        video = Media(url=embed.get("playlist"), kind="video", alt=embed.get("alt"), preview_url=embed.get("thumbnail"))
        return (video,), None, {}
    if kind == "app.bsky.embed.external#view":
        external = _dict(embed.get("external"))
        card = LinkCard(url=external.get("uri"), title=external.get("title"), description=external.get("description"))
        return (), card, {}
    return (), None, {}


def read_labels(labels):
    """The values of a post's labels, those negated (``neg``) and those on
    its audience left out."""
    labels = [label for label in labels if isinstance(label, dict)] if isinstance(labels, list) else []
    negated = {label.get("val") for label in labels if label.get("neg") is True}
    return tuple(
        value
        for value in (values.text(label.get("val")) for label in labels if label.get("neg") is not True)
        if value not in negated and value not in AUDIENCE_LABELS
    )


def quoted_view(record):
    """A quoted ``viewRecord`` as the post view it stands for (its record is
    under ``value``, its embed in ``embeds``), or None when the quoted post
    is not at hand (deleted, blocked, detached)."""
    if record.get("$type") != "app.bsky.embed.record#viewRecord":
        return None
    embeds = record.get("embeds") if isinstance(record.get("embeds"), list) else []
    return {**record, "record": record.get("value"), "embed": embeds[0] if embeds else None}


@register
class BlueskyClient(ChannelClient):
    """Pulls ``mentions`` (notifications of mentions, replies and quotes)
    or ``search`` (``target`` is the query) for one account.

    Credentials: ``identifier`` (handle, ``@handle`` or email),
    ``app_password``, and the session tokens ``access_jwt`` and
    ``refresh_jwt`` it renews.

    Both modes read newest first, down to an hour below the cursor's
    ``seen_at``: the sort time of the newest item a finished run handled
    (see :meth:`_paged`).
    """

    info = PlatformInfo(
        name="bluesky",
        label="Bluesky",
        modes=(("mentions", "Mentions of the account"), ("search", "Search")),
        default_api_url="https://bsky.social",
        credential_fields={
            "identifier": "auth_login",
            "app_password": "auth_password",
            "access_jwt": "session_token",
            "refresh_jwt": "refresh_token",
        },
        renewed_credentials=("access_jwt", "refresh_jwt"),
        publishes=True,
        max_length=MAX_GRAPHEMES,
    )

    def __init__(self, settings, transport):
        super().__init__(settings, transport)
        self.base = (settings.api_url or self.info.default_api_url).rstrip("/")
        self._access = settings.credentials.get("access_jwt") or ""
        self._refresh = settings.credentials.get("refresh_jwt") or ""
        #: DID of the connected account: its posts are outbound
        self.did = _jwt_subject(self._access)
        #: the last response that said how many calls are left
        self._quota_response = None
        self._threads_fetched = 0
        self._known_uris = set()  # posts this pull already brought

    def _pull(self, cursor):
        if self.settings.mode == "mentions":
            fetch, what, views_of = self._notifications_page, "a notification", self._mentioned_posts
        else:
            if not self.settings.target.strip():
                raise ConfigError("the Bluesky search source has no query")
            fetch, what, views_of = self._search_page, "a post", list
        if not self._access:
            self._renew()
        if not self.did:
            self.did = values.required(self._get("com.atproto.server.getSession"), "did", "Bluesky sent the session")
        self.account_id = self.did
        yield from self._paged(cursor or {}, fetch, what, views_of)

    # -- paging ---------------------------------------------------------

    def _paged(self, cursor, fetch, what, views_of):
        """One batch per page, newest first, down to an hour below the
        watermark ``seen_at``, skipping the items handled within that hour
        (``recent``, by URI): posts indexed late come in below the watermark.

        Paging goes on while there is a cursor, empty pages included. While
        paging, the cursor also holds the platform's ``page`` cursor, the
        ``newest`` item of the run (the next watermark) and the ``last``
        (oldest) item handled: search pages are offsets, so posts published
        meanwhile push handled ones onto the next page, where they are
        skipped. Without a watermark (first pull) only the newest
        ``max_items`` are read; with one, a pull cut short by ``max_items``,
        ``MAX_PAGES`` or the rate limit keeps its page so that the next pull
        fills the gap.
        """
        seen_at = cursor.get("seen_at", "")
        watermark = values.parse_date(seen_at)
        floor = watermark - OVERLAP if watermark else None
        recent = _recent_uris(cursor.get("recent"), floor)
        newest = values.parse_date(cursor.get("newest")) or watermark
        last_at, last_uri = cursor.get("last") or ("", "")
        last = values.parse_date(last_at)
        page = cursor.get("page")
        taken, pages, max_items = 0, 0, max(1, self.settings.max_items)
        while True:
            items, next_page = fetch(page, min(PAGE_SIZE, max_items - taken), floor)
            pages += 1
            stamped, skipped = self._stamped(items, what)
            reached_floor = floor is not None and any(moment <= floor for moment, _item in stamped)
            fresh = [
                (moment, item)
                for moment, item in stamped
                if not (floor and moment <= floor)
                and item["uri"] not in recent
                and not (last and (moment > last or item["uri"] == last_uri))
            ]
            for moment, item in fresh:
                newest = max(newest, moment) if newest else moment
                if last is None or moment <= last:
                    last, last_uri = moment, item["uri"]
                recent[item["uri"]] = moment
            taken += len(fresh)
            if not next_page or next_page == page or reached_floor or (taken >= max_items and watermark is None):
                next_cursor = {"seen_at": _stamp(newest), "recent": _kept_uris(recent, newest and newest - OVERLAP)}
            else:
                next_cursor = {
                    "seen_at": seen_at,
                    "recent": _kept_uris(recent, floor),
                    "newest": _stamp(newest),
                    "page": next_page,
                    "last": [_stamp(last), last_uri],
                }
            views = views_of([item for _moment, item in fresh])
            batch = self._batch(views, next_cursor, skipped)
            yield batch
            if "page" not in next_cursor or taken >= max_items or pages >= MAX_PAGES or batch.wait_seconds:
                return
            page = next_page

    @staticmethod
    def _stamped(items, what):
        """``(indexedAt, item)`` of the items whose date is readable, and the
        reasons of those skipped: an item without a readable ``uri`` or date
        cannot be placed against the watermark."""
        stamped, skipped = [], []
        for item in items:
            try:
                values.required(item, "uri", f"Bluesky sent {what}")
                stamped.append((_sort_time(item, what), item))
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason(_label(item, what), error))
        return stamped, skipped

    def _notifications_page(self, page, limit, _floor):
        data = self._get(
            "app.bsky.notification.listNotifications", {"limit": limit, "cursor": page, "reasons": list(REASONS)}
        )
        raw = values.required(data, "notifications", "Bluesky sent a notification list", list)
        items = [item for item in raw if isinstance(item, dict) and item.get("reason") in REASONS]
        return items, _page_cursor(data)

    def _search_page(self, page, limit, floor):
        since = floor.isoformat(timespec="milliseconds") + "Z" if floor else None
        data = self._get(
            "app.bsky.feed.searchPosts",
            {"q": self.settings.target.strip(), "sort": "latest", "limit": limit, "cursor": page, "since": since},
        )
        posts = values.required(data, "posts", "Bluesky sent a search result", list)
        return posts, _page_cursor(data)

    def _mentioned_posts(self, notifications):
        """The posts behind notifications, with their like and reply counts.
        A post getPosts no longer has was deleted (or taken down) since it
        was listed: it is not stored, as the AppView drops its notification."""
        uris = [item["uri"] for item in notifications]  # checked by _stamped
        found = {}
        for chunk in _chunks(uris):
            views = self._get("app.bsky.feed.getPosts", {"uris": chunk}).get("posts")
            for view in views if isinstance(views, list) else ():
                if isinstance(view, dict) and isinstance(view.get("uri"), str):
                    found[view["uri"]] = view
        return [found[item["uri"]] for item in notifications if item["uri"] in found]

    # -- records --------------------------------------------------------

    def _batch(self, views, cursor, skipped=()):
        """Posts of one page, the ancestors of replies whose parent is not
        among them (so each reply has its parent), and all their authors.
        A post that cannot be read is skipped with its reason."""
        read, skipped = {}, list(skipped)
        for view in views:
            try:
                post, author = self._read(view)
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason(_label(view, "post"), error))
                continue
            read[post.external_id] = (post, author)
            self._read_quoted(view, read)
        self._known_uris.update(read)
        orphans = [
            post.parent_id
            for post, _author in read.values()
            if post.parent_id and post.parent_id not in self._known_uris
        ]
        for parent_id in orphans:
            if parent_id not in self._known_uris and self._threads_fetched < MAX_THREAD_FETCHES:
                for view in self._ancestors(parent_id):
                    try:
                        ancestor, author = self._read(view)
                    except values.ITEM_ERRORS as error:  # context only: the reply is kept
                        _logger.info("Bluesky: an ancestor of %s is unreadable (%s)", parent_id, error)
                        break
                    read.setdefault(ancestor.external_id, (ancestor, author))
                    self._known_uris.add(ancestor.external_id)
        basics = {author["did"]: author for _post, author in read.values()}
        profiles = self._profiles(basics)
        return Batch(
            posts=tuple(post for post, _author in read.values()),
            authors=tuple(self._author(profiles.get(did), basic) for did, basic in basics.items()),
            cursor=cursor,
            wait_seconds=self._wait_seconds(),
            skipped=tuple(skipped),
        )

    def _read(self, view):
        """A PostView (or a notification, which has the same core) as a Post
        and the author profile it embeds."""
        uri = values.required(view, "uri", "Bluesky sent a post")
        author = values.required(view, "author", f"Bluesky sent the post {uri}", dict)
        did = values.required(author, "did", f"Bluesky sent the author of {uri}")
        record = view.get("record") if isinstance(view.get("record"), dict) else {}
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        langs = record.get("langs")
        media, card, quoted = read_embed(view.get("embed"))
        post = Post(
            external_id=uri,
            thread_key=self._ref(reply, "root") or uri,
            parent_id=self._ref(reply, "parent"),
            author_id=did,
            body_html=render_text(values.text(record.get("text")), record.get("facets")),
            url=post_url(uri, values.text(author.get("handle"))),
            posted_at=values.parse_date(record.get("createdAt")) or values.parse_date(view.get("indexedAt")),
            direction="outbound" if did == self.did else "inbound",
            language=langs[0] if isinstance(langs, list) and langs else "",
            like_count=view.get("likeCount"),
            repost_count=view.get("repostCount"),
            reply_count=view.get("replyCount"),
            media=media,
            link_card=card,
            quoted_id=values.text(quoted.get("uri")),
            labels=read_labels(view.get("labels")),
            cid=values.text(view.get("cid")),
        )
        return post, author

    def _read_quoted(self, view, read):
        """The post ``view`` quotes, when the answer carries it: context, so
        one that cannot be read is left out quietly."""
        _media, _card, quoted = read_embed(view.get("embed"))
        quoted = quoted_view(quoted)
        if quoted is None:
            return
        try:
            post, author = self._read(quoted)
        except values.ITEM_ERRORS as error:
            _logger.info("Bluesky: a quoted post is unreadable (%s)", error)
            return
        read.setdefault(post.external_id, (post, author))

    @staticmethod
    def _ref(reply, key):
        ref = reply.get(key)
        return values.text(ref.get("uri")) if isinstance(ref, dict) else ""

    @classmethod
    def _author(cls, profile, basic):
        """The full profile's author; the basic one the post embeds if the
        profile is missing or unreadable (its DID was checked with the post)."""
        if profile:
            try:
                return cls._profile_author(profile)
            except values.ITEM_ERRORS as error:
                _logger.info("Bluesky: profile of %s unreadable (%s)", basic.get("did"), error)
        return cls._profile_author(basic)

    @staticmethod
    def _profile_author(profile):
        """An author known by their DID; ``handle.invalid``, which Bluesky
        sends when the handle failed verification, is no handle: the DID
        stands in for it and the name says the handle is unverified."""
        did, handle = profile["did"], values.text(profile.get("handle")).strip()
        name = values.text(profile.get("displayName"))
        if handle == INVALID_HANDLE:
            handle, name = "", f"{name or did} (handle not verified)"
        return Author(
            external_id=did,
            handle=handle or did,
            name=name or handle or did,
            profile_url=f"{WEB_URL}/profile/{quote(_profile_key(handle, did), safe=':@')}",
            avatar_url=profile.get("avatar"),
            bio=profile.get("description"),
            followers=profile.get("followersCount"),
            verified_websites=verified_websites(handle),
        )

    def _ancestors(self, uri):
        """The post ``uri`` and the posts above it up to the thread root; a
        post deleted since brings nothing (the reply keeps its parent id)."""
        self._threads_fetched += 1
        try:
            data = self._get("app.bsky.feed.getPostThread", {"uri": uri, "depth": 0, "parentHeight": MAX_PARENT_HEIGHT})
        except NotFoundError:
            return []
        views, node = [], data.get("thread")
        # a notFoundPost or blockedPost node has no "post": the chain stops there
        while isinstance(node, dict) and isinstance(node.get("post"), dict):
            views.append(node["post"])
            node = node.get("parent")
        return views

    def _profiles(self, dids):
        """Full profiles (followers, bio), 25 per call."""
        profiles = {}
        for chunk in _chunks(dids):
            for profile in self._get("app.bsky.actor.getProfiles", {"actors": chunk}).get("profiles") or ():
                if isinstance(profile, dict) and profile.get("did"):
                    profiles[profile["did"]] = profile
        return profiles

    # -- publishing -----------------------------------------------------

    def publish(self, text, reply_to=None, visibility=None, idempotency_key=None):
        """An ``app.bsky.feed.post`` record, or a reply naming its thread's
        root and its parent by URI and CID (the CIDs are looked up when the
        target lacks them); refused before any call beyond 300 graphemes."""
        if visibility not in (None, "public"):
            raise ConfigError(f"Bluesky posts are public; no {visibility!r} visibility")
        count = graphemes(text)
        if count > MAX_GRAPHEMES or len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise RefusedError(
                f"a Bluesky post holds at most {MAX_GRAPHEMES} characters; this one has {count}: shorten it"
            )
        self._open_session()
        now = datetime.now(timezone.utc)
        record = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        if reply_to:
            record["reply"] = self._reply_refs(reply_to)
        created = self._call(
            "POST",
            "com.atproto.repo.createRecord",
            body={"repo": self.did, "collection": "app.bsky.feed.post", "record": record},
        )
        uri = values.required(created, "uri", "Bluesky sent the new record")
        return Published(
            external_id=uri,
            thread_key=record["reply"]["root"]["uri"] if reply_to else uri,
            url=post_url(uri),
            posted_at=now,
            text=text,
            cid=values.text(created.get("cid")),
        )

    def send_direct(self, recipient, text, idempotency_key=None):
        raise UnsupportedError(
            "Bluesky direct messages live on a separate chat service that app passwords cannot reach: "
            "continue by email"
        )

    def _open_session(self):
        if not self._access:
            self._renew()
        if not self.did:
            self.did = values.required(self._get("com.atproto.server.getSession"), "did", "Bluesky sent the session")

    def _reply_refs(self, target):
        """``{root: {uri, cid}, parent: {uri, cid}}`` of a reply to ``target``.
        Stored CIDs serve when both are known; else the parent's view
        gives its CID and, in its record, the root's."""
        parent_uri, root_uri = target.external_id, target.thread_key or target.external_id
        if target.cid and (root_uri == parent_uri or target.root_cid):
            return {
                "root": {"uri": root_uri, "cid": target.cid if root_uri == parent_uri else target.root_cid},
                "parent": {"uri": parent_uri, "cid": target.cid},
            }
        views = self._get("app.bsky.feed.getPosts", {"uris": [parent_uri]}).get("posts")
        view = next((v for v in views or () if isinstance(v, dict) and v.get("uri") == parent_uri), None)
        if view is None:
            raise NotFoundError(f"the Bluesky post {parent_uri} no longer exists: it cannot be answered")
        parent = {"uri": parent_uri, "cid": values.required(view, "cid", f"Bluesky sent the post {parent_uri}")}
        record = view.get("record") if isinstance(view.get("record"), dict) else {}
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = reply.get("root") if isinstance(reply.get("root"), dict) else {}
        if not (isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str)):
            root = parent
        return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": parent}

    # -- XRPC and the session -------------------------------------------

    def _get(self, nsid, params=None):
        """An authenticated XRPC query; an expired session is renewed once."""
        return self._call("GET", nsid, params=params)

    def _call(self, method, nsid, params=None, body=None):
        """An authenticated XRPC call; an expired session is renewed once.
        A 400 ``InvalidRequest`` to a procedure is Bluesky refusing what we
        sent, in its own words."""
        status, data = self._send(method, nsid, params=params, body=body, token=self._access)
        if status != 200 and data.get("error") in TOKEN_ERRORS:
            self._renew()
            status, data = self._send(method, nsid, params=params, body=body, token=self._access)
        if status == 200:
            return data
        error = data.get("error") or f"HTTP {status}"
        said = platform_says(data, (self._access,)) or f"HTTP {status}"
        if status == 401 or error in TOKEN_ERRORS:
            raise AuthError(f"Bluesky refused the session ({said}); reconnect the source with a new app password")
        if error == "NotFound":
            raise NotFoundError(f"Bluesky has no such record for {nsid}")
        if method == "POST":
            raise RefusedError(f"Bluesky refused the post: {said}")
        raise InvalidDataError(f"Bluesky refused {nsid}: {said}")

    def _send(self, method, nsid, *, params=None, body=None, token=""):
        """One XRPC call: 400 and 401 carry an XRPC error body to read."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.transport.request(
            method, f"{self.base}/xrpc/{nsid}", params=params, headers=headers, json_body=body, expected=(200, 400, 401)
        )
        if response.header("ratelimit-remaining").isdigit():
            self._quota_response = response
        try:
            data = values.read_json(response)
        except InvalidDataError:
            if response.status == 200:
                raise
            data = {}
        if not isinstance(data, dict):
            raise InvalidDataError(f"Bluesky answered {nsid} with JSON that is not an object")
        return response.status, data

    def _renew(self):
        """Refresh the session, or open a new one with the app password when
        the refresh token is missing, expired or revoked."""
        if self._refresh:
            status, data = self._send("POST", "com.atproto.server.refreshSession", token=self._refresh)
            if status == 200:
                self._adopt(data)
                return
            _logger.info(
                "Bluesky refused to refresh the session (%s); opening a new one", data.get("error") or f"HTTP {status}"
            )
        identifier = login_identifier(self.settings.credentials.get("identifier"))
        password = self.settings.credentials.get("app_password")
        if not identifier or not password:
            raise AuthError("the Bluesky source has no identifier and app password; reconnect it")
        status, data = self._send(
            "POST", "com.atproto.server.createSession", body={"identifier": identifier, "password": password}
        )
        if status != 200:
            raise AuthError(
                f"Bluesky refused the identifier or app password "
                f"({data.get('error') or f'HTTP {status}'}); "
                "create a new app password and reconnect the source"
            )
        self._adopt(data)

    def _adopt(self, session):
        self._access = values.required(session, "accessJwt", "Bluesky sent a session")
        self._refresh = values.required(session, "refreshJwt", "Bluesky sent a session")
        self.did = session.get("did") or _jwt_subject(self._access)
        self.credential_updates = {"access_jwt": self._access, "refresh_jwt": self._refresh}

    def _wait_seconds(self):
        """Seconds until the quota resets, once too few calls are left for
        another page."""
        if self._quota_response is None:
            return None
        return self._quota_response.quota_wait("ratelimit-remaining", "ratelimit-reset", QUOTA_WINDOW, low=LOW_QUOTA)
