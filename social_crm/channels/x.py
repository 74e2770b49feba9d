"""X (Twitter API v2) through python-twitter-v2: mentions of an account,
recent search, and the direct messages of the connected account.

pytwitter builds the endpoints, signs the requests (an app-only bearer token
or OAuth 1.0a user context) and checks X's answers; a small subclass sends
its requests through our :class:`~.transport.Transport` so that X obeys the
same timeouts, host checks and log masking as every other platform. Answers
are read as JSON (``return_json=True``): pytwitter's dataclass models cost
about 5 ms per tweet, too slow for thousands of posts.

X bills each post read, so each batch reports its reads and the source's
monthly read budget caps what a pull asks for. X answers newest first: while
a run pages back, each batch's cursor keeps the previous ``since_id`` with
the ``next_token`` of the following page and the newest id seen, so a crash
resumes at the next page; after the last page the cursor becomes
``{"since_id": newest id}``.
"""

import html
import logging
from datetime import datetime, timezone

import pytwitter

from . import values
from .base import ChannelClient, PlatformInfo, register
from .errors import AuthError, BudgetSpentError, ConfigError, InvalidDataError, NotFoundError, RefusedError
from .records import Author, Batch, Media, Post, Published
from .transport import platform_says, safe_url

_logger = logging.getLogger(__name__)

USER_CONTEXT_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
USER_FIELDS = ("username", "name", "description", "profile_image_url", "public_metrics")
TWEET_QUERY = {
    "tweet_fields": (
        "created_at",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "lang",
        "public_metrics",
        "author_id",
        "attachments",
        "possibly_sensitive",
    ),
    "expansions": (
        "author_id",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
        "in_reply_to_user_id",
        "attachments.media_keys",
    ),
    "user_fields": USER_FIELDS,
    "media_fields": ("type", "url", "preview_image_url", "alt_text", "variants"),
    "return_json": True,
}
#: X media types as our media kinds
MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "gif"}
DM_QUERY = {
    "dm_event_fields": ("created_at", "dm_conversation_id", "sender_id"),
    "event_types": "MessageCreate",
    "expansions": ("sender_id",),
    "user_fields": USER_FIELDS,
    "return_json": True,
}
#: smallest and largest ``max_results`` X accepts per mode
PAGE_SIZES = {"mentions": (5, 100), "search": (10, 100), "dm": (1, 100)}
#: parameters whose refusal means the saved cursor is stale
CURSOR_PARAMETERS = {"since_id", "pagination_token", "next_token"}
#: X's rate-limit window, for a spent limit that comes without its reset time
RATE_WINDOW = 900
#: the problem X sends when an endpoint needs user context
UNSUPPORTED_AUTHENTICATION = "https://api.twitter.com/2/problems/unsupported-authentication"


def id_key(external_id):
    """X ids are decimal strings: compare them by length, then digits."""
    return len(external_id), external_id


def text_html(text):
    """X sends text with ``&``, ``<`` and ``>`` already escaped: unescape,
    then escape once, so that no markup of the author survives."""
    return "<p>%s</p>" % html.escape(html.unescape(str(text or ""))).replace("\n", "<br/>")


def _count(metrics, name, default=0):
    return values.count(metrics.get(name) if isinstance(metrics, dict) else None, default)


def _media(item):
    """A ``media`` object of ``includes``: a photo links to its image, a
    video or GIF to its best MP4 (``variants``), else to its still."""
    variants = [
        variant
        for variant in item.get("variants") or ()
        if isinstance(variant, dict) and variant.get("content_type") == "video/mp4"
    ]
    best = max(variants, key=lambda variant: values.count(variant.get("bit_rate")), default={})
    return Media(
        url=item.get("url") or best.get("url") or "",
        kind=MEDIA_KINDS.get(item.get("type"), "other"),
        alt=item.get("alt_text"),
        preview_url=item.get("preview_image_url") or "",
    )


def _referenced(references, kind):
    """The id of the first referenced tweet of ``kind`` (replied_to, quoted)."""
    return next(
        (values.text(ref.get("id")) for ref in references if isinstance(ref, dict) and ref.get("type") == kind), ""
    )


class StaleCursorError(InvalidDataError):
    """X refused a saved paging token or ``since_id`` (tokens expire, and
    recent search reaches back 7 days only): pull again without it."""

    def __init__(self, message, parameters):
        super().__init__(message)
        self.parameters = parameters


class _Api(pytwitter.Api):
    """pytwitter over our transport. ``last_response`` keeps the headers X
    reports its rate limits in; X's error payloads become our errors."""

    def __init__(self, transport, base_url, **credentials):
        self.transport = transport
        self.last_response = None
        if base_url:
            self.BASE_URL_V2 = base_url.rstrip("/")  # pylint: disable=invalid-name  # pytwitter's name
        super().__init__(**credentials)

    def _request(self, url, verb="GET", params=None, data=None, json=None, files=None, enforce_auth=True):
        if files:
            raise ConfigError("uploads are not part of pulling X")
        # 400 is read here: X says in the body which parameter it refused;
        # a creation answers 201, and a 403 to it may refuse the content
        expected = (200, 201, 400, 403) if verb == "POST" else (200, 400)
        self.last_response = self.transport.request(
            verb, url, params=params, data=data, json_body=json, auth=self._auth, expected=expected
        )
        return self.last_response

    @staticmethod
    def _parse_response(resp):
        payload = values.read_json(resp)
        where = safe_url(resp.url)
        if not isinstance(payload, dict):
            raise InvalidDataError(f"{where} answered with JSON that is not an object")
        errors = [error for error in payload.get("errors") or () if isinstance(error, dict)]
        if resp.status == 403:
            said = platform_says(payload) or "HTTP 403"
            if payload.get("type") == UNSUPPORTED_AUTHENTICATION:
                raise AuthError(f"X refused our credentials for {where} ({said}); reconnect the source")
            raise RefusedError(f"X refused it: {said}")
        if resp.status == 400:
            refused = {name for error in errors for name in error.get("parameters") or ()}
            if refused & CURSOR_PARAMETERS:
                raise StaleCursorError(f"{where}: X refused {', '.join(sorted(refused))}", refused)
            reason = "; ".join(str(error.get("message", "")) for error in errors) or payload.get("detail", "")
            raise InvalidDataError(f"X refused the request to {where}: {reason}")
        if errors and set(payload) == {"errors"}:
            # 200 with nothing but errors: X found no such account
            reason = errors[0].get("detail") or errors[0].get("title", "")
            if all(str(error.get("type", "")).endswith("/resource-not-found") for error in errors):
                raise NotFoundError(f"{where}: {reason}")
            raise InvalidDataError(f"{where}: {reason}")
        return payload


@register
class XClient(ChannelClient):
    """Pulls ``mentions`` of an account (target: user id or @username; empty
    with user-context credentials: the connected account), a recent
    ``search`` (target: the query), or the connected account's ``dm``."""

    info = PlatformInfo(
        name="x",
        label="X",
        modes=(("mentions", "Mentions of the account"), ("search", "Search"), ("dm", "Direct messages")),
        default_api_url="https://api.x.com/2",
        credential_fields={
            "bearer_token": "bearer_token",
            "consumer_key": "api_key",
            "consumer_secret": "api_secret",
            "access_token": "access_token",
            "access_token_secret": "access_token_secret",
        },
        metered=True,
        publishes=True,
        direct_messages=True,
        max_length=280,
    )

    def __init__(self, settings, transport):
        super().__init__(settings, transport)
        #: pytwitter over our transport, for the pull under way
        self.api = None

    def _pull(self, cursor):
        mode = self.settings.mode
        self.api = self._connect()
        self._page_size(0, 0)  # a budget already spent stops the pull before any call
        cursor = dict(cursor or {})
        target = self._target(cursor)
        own_id = self.api.auth_user_id or (target if mode == "mentions" else None)
        self.account_id = own_id or ""
        kept = {"user_id": target} if mode == "mentions" else {}
        since_id, token, newest = cursor.get("since_id"), cursor.get("next_token"), cursor.get("newest_id")
        first, taken, reads = True, 0, 0
        while True:
            size = self._page_size(taken, reads)
            if not size:
                return
            try:
                payload = self._fetch(target, since_id, size, token)
            except StaleCursorError as error:
                if not first:
                    raise
                _logger.warning(
                    "X refused the saved cursor (%s); pulling again without it", ", ".join(sorted(error.parameters))
                )
                since_id = None if "since_id" in error.parameters else since_id
                first, token = False, None
                continue
            first = False
            posts, authors, fresh, billed, skipped, seen = self._read(payload, since_id, own_id)
            newest = max((i for i in (newest, *fresh) if i), key=id_key, default=None)
            meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
            # the DM timeline has no since_id: paging stops at the first message already seen
            token = meta.get("next_token") if not seen else None
            token = token if isinstance(token, str) else None
            taken, reads = taken + (len(fresh) if mode == "dm" else billed), reads + billed
            wait = self._wait_seconds()
            if token:
                batch_cursor = {"since_id": since_id, "next_token": token, "newest_id": newest, **kept}
            else:
                batch_cursor = {"since_id": newest or since_id, **kept}
            yield Batch(
                posts=tuple(posts),
                authors=tuple(authors),
                cursor=batch_cursor,
                reads=billed,
                wait_seconds=wait,
                skipped=tuple(skipped),
            )
            if not token or wait is not None:
                return

    def publish(self, text, reply_to=None, visibility=None, idempotency_key=None):
        """A tweet, or a reply to ``reply_to`` (``in_reply_to_tweet_id``)."""
        if visibility not in (None, "public"):
            raise ConfigError(f"X posts are public; no {visibility!r} visibility")
        api = self._user_context("publish")
        data = self._created(
            api.create_tweet(
                text=text, reply_in_reply_to_tweet_id=reply_to.external_id if reply_to else None, return_json=True
            ),
            "id",
        )
        tweet_id = data["id"]
        return Published(
            external_id=tweet_id,
            thread_key=(reply_to.thread_key or reply_to.external_id) if reply_to else tweet_id,
            url=f"https://x.com/i/web/status/{tweet_id}",
            posted_at=datetime.now(timezone.utc),
            text=html.unescape(values.text(data.get("text")) or text),
        )

    def send_direct(self, recipient, text, idempotency_key=None):
        """A direct message to the user ``recipient.external_id``, in the
        one-to-one conversation X keeps with them."""
        api = self._user_context("send direct messages")
        data = self._created(
            api.create_message_to_participant(recipient.external_id, text=text, return_json=True),
            "dm_event_id",
            "dm_conversation_id",
        )
        return Published(
            external_id=data["dm_event_id"],
            thread_key=data["dm_conversation_id"],
            posted_at=datetime.now(timezone.utc),
            text=text,
        )

    def _user_context(self, what):
        """pytwitter signing as the connected account: X publishes and sends
        direct messages for a user, never for an app."""
        api = self._connect()
        if api.auth_user_id is None:
            raise ConfigError(
                f"X can {what} only with user-context credentials (OAuth 1.0a: consumer key and secret, access "
                "token and secret); this source has only an app-only bearer token"
            )
        self.api = api
        return api

    def _created(self, payload, *keys):
        """The ``data`` object of a creation, with its ids as strings."""
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        try:
            return {**data, **{key: values.required(data, key) for key in keys}}
        except InvalidDataError:
            raise self._invalid(f"a creation without {', '.join(keys)}") from None

    def _connect(self):
        """pytwitter with user context when all four OAuth 1.0a keys are set,
        else app-only with the bearer token."""
        credentials = self.settings.credentials or {}
        present = [key for key in USER_CONTEXT_KEYS if credentials.get(key)]
        if len(present) == len(USER_CONTEXT_KEYS):
            keys = {
                "consumer_key": credentials["consumer_key"],
                "consumer_secret": credentials["consumer_secret"],
                "access_token": credentials["access_token"],
                "access_secret": credentials["access_token_secret"],
            }
        elif credentials.get("bearer_token"):
            keys = {"bearer_token": credentials["bearer_token"]}
        else:
            missing = ", ".join(key for key in USER_CONTEXT_KEYS if key not in present)
            raise ConfigError(f"X needs a bearer_token, or user-context credentials (missing: {missing})")
        try:
            return _Api(self.transport, self.settings.api_url, **keys)
        except ValueError:
            # pytwitter reads the user id from the access token's prefix
            raise ConfigError("the X access token should look like '<user id>-<key>'; reconnect the source") from None

    def _target(self, cursor):
        """The user id whose mentions to pull (resolved from @username once,
        then kept in the cursor), the search query, or None for DMs."""
        api, mode, target = self.api, self.settings.mode, self.settings.target.strip()
        if mode == "search":
            if not target:
                raise ConfigError("an X search source needs a query")
            return target
        if mode == "dm":
            if api.auth_user_id is None:
                raise ConfigError(
                    "X direct messages need user-context credentials (consumer key and secret, "
                    "access token and secret); an app-only bearer token cannot read them"
                )
            return None
        username = target.lstrip("@")
        if not username:
            if api.auth_user_id is None:
                raise ConfigError("an X mentions source needs the account's @username or user id")
            return api.auth_user_id
        if username.isdigit():
            return username
        if cursor.get("user_id"):
            return cursor["user_id"]
        user = api.get_user(username=username, return_json=True).get("data")
        try:
            return values.required(user, "id")
        except InvalidDataError:
            raise self._invalid(f"the user @{username} without 'id'") from None

    def _page_size(self, taken, reads):
        """``max_results`` of the next page: what is left of ``max_items``
        (at least X's minimum), never beyond the read budget; 0 to stop. A
        budget spent before the pull is an error that waits for next month;
        one spent during it ends the pull, its cursor resumes next month."""
        low, high = PAGE_SIZES[self.settings.mode]
        if taken >= self.settings.max_items:
            return 0
        size = max(low, min(high, self.settings.max_items - taken))
        budget = self.settings.read_budget
        if budget is None:
            return size
        if budget - reads >= low:
            return min(size, budget - reads)
        if reads:
            return 0
        raise BudgetSpentError(
            f"the monthly X read budget is spent ({max(budget, 0)} reads left, "
            f"a page needs at least {low}); pulling resumes next month"
        )

    def _fetch(self, target, since_id, size, token):
        api, mode = self.api, self.settings.mode
        if mode == "mentions":
            return api.get_mentions(target, since_id=since_id, max_results=size, pagination_token=token, **TWEET_QUERY)
        if mode == "search":
            return api.search_tweets(target, since_id=since_id, max_results=size, next_token=token, **TWEET_QUERY)
        return api.get_dm_events(max_results=size, pagination_token=token, **DM_QUERY)

    def _wait_seconds(self):
        """Seconds until X allows the next call, once this window is spent."""
        return self.api.last_response.quota_wait("x-rate-limit-remaining", "x-rate-limit-reset", RATE_WINDOW)

    def _invalid(self, what):
        return InvalidDataError(f"{safe_url(self.api.last_response.url)} sent {what}")

    def _objects(self, value, name):
        """A list of JSON objects from the payload; absent means none. An
        entry that is not an object is counted by the readers as skipped."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._invalid(f"'{name}' that is not a list")
        return value

    @staticmethod
    def _label(item, what):
        """``tweet 123`` for a skip reason; the id only if it looks like one."""
        if isinstance(item, tuple):  # a direct message as (id, event)
            item = item[1]
        item_id = item.get("id") if isinstance(item, dict) else None
        return f"{what} {item_id}" if isinstance(item_id, str) and item_id.isdigit() and len(item_id) < 25 else what

    def _each(self, items, what, read, skipped):
        """``read(item)`` for each item; an item that fails is skipped and
        its reason kept, the others are read."""
        for item in items:
            try:
                yield read(item)
            except values.ITEM_ERRORS as error:
                skipped.append(values.skip_reason(self._label(item, what), error))

    def _read(self, payload, since_id, own_id):
        """A page's posts (oldest first, with the tweets it references) and
        authors, the ids of its items not seen before, how many items X
        billed, the reasons of the items skipped, and whether the DM timeline
        reached a message already stored."""
        data = self._objects(payload.get("data"), "data")
        includes = payload.get("includes") if isinstance(payload.get("includes"), dict) else {}
        skipped = []
        authors = self._authors(includes, skipped)
        if self.settings.mode == "dm":
            events = list(self._each(data, "direct message", self._dm_event, skipped))
            fresh = [event for event in events if not since_id or id_key(event[0]) > id_key(since_id)]
            posts = list(self._each(fresh, "direct message", lambda event: self._dm_post(*event, own_id), skipped))
            fresh_ids, seen = [event[0] for event in fresh], len(fresh) < len(events)
        else:
            media = self._media_by_key(includes)

            def read(tweet):
                return self._tweet_post(tweet, authors, own_id, media)

            # referenced tweets are context: one that fails is dropped quietly
            context = list(self._each(self._objects(includes.get("tweets"), "includes.tweets"), "tweet", read, []))
            mentions = list(self._each(data, "tweet", read, skipped))
            posts, fresh_ids, seen = [*context, *mentions], [post.external_id for post in mentions], False
        posts = self._ordered(posts, authors)
        return posts, list(authors.values()), fresh_ids, len(data), skipped, seen

    def _media_by_key(self, includes):
        """The media of ``includes`` by ``media_key``; one unreadable is left out."""
        media = {}
        for item in self._objects(includes.get("media"), "includes.media"):
            if isinstance(item, dict) and isinstance(item.get("media_key"), str):
                media[item["media_key"]] = _media(item)
        return media

    def _authors(self, includes, skipped):
        authors = {}
        for author in self._each(self._objects(includes.get("users"), "includes.users"), "user", self._user, skipped):
            authors[author.external_id] = author
        return authors

    def _user(self, user):
        username = values.text(user.get("username"))
        return Author(
            external_id=values.required(user, "id"),
            handle=username,
            name=values.text(user.get("name")),
            # a handle of letters, digits and _ only: anything else makes no safe URL
            profile_url=f"https://x.com/{username}" if username.replace("_", "").isalnum() else "",
            avatar_url=user.get("profile_image_url"),
            bio=values.text(user.get("description")),
            followers=_count(user.get("public_metrics"), "followers_count", None),
        )

    def _tweet_post(self, tweet, authors, own_id, media):
        tweet_id = values.required(tweet, "id")
        author_id = values.required(tweet, "author_id")
        author = authors.get(author_id)
        references = tweet.get("referenced_tweets") if isinstance(tweet.get("referenced_tweets"), list) else ()
        metrics = tweet.get("public_metrics")
        handle = author.handle if author and author.handle and author.profile_url else "i/web"
        attachments = tweet.get("attachments") if isinstance(tweet.get("attachments"), dict) else {}
        keys = attachments.get("media_keys") if isinstance(attachments.get("media_keys"), list) else ()
        return Post(
            external_id=tweet_id,
            thread_key=values.text(tweet.get("conversation_id")) or tweet_id,
            author_id=author_id,
            body_html=text_html(values.text(tweet.get("text"))),
            url=f"https://x.com/{handle}/status/{tweet_id}" if tweet_id.isdigit() else "",
            posted_at=values.parse_date(tweet.get("created_at")),
            parent_id=_referenced(references, "replied_to"),
            direction="outbound" if author_id == own_id else "inbound",
            language=values.text(tweet.get("lang")),
            like_count=_count(metrics, "like_count"),
            repost_count=_count(metrics, "retweet_count"),
            reply_count=_count(metrics, "reply_count"),
            media=tuple(media[key] for key in keys if isinstance(key, str) and key in media),
            quoted_id=_referenced(references, "quoted"),
            sensitive=tweet.get("possibly_sensitive"),
        )

    def _dm_event(self, event):
        """``(id, event)`` of a direct message whose id is readable."""
        return values.required(event, "id"), event

    def _dm_post(self, event_id, event, own_id):
        sender_id = values.required(event, "sender_id")
        return Post(
            external_id=event_id,
            thread_key=values.required(event, "dm_conversation_id"),
            author_id=sender_id,
            body_html=text_html(values.text(event.get("text"))),
            posted_at=values.parse_date(event.get("created_at")),
            visibility="private",
            direction="outbound" if sender_id == own_id else "inbound",
        )

    @staticmethod
    def _ordered(posts, authors):
        """The page's posts once each, oldest first; an author X did not
        expand gets a bare record so that every post has one."""
        unique = {post.external_id: post for post in posts}
        for post in unique.values():
            if post.author_id not in authors:
                authors[post.author_id] = Author(external_id=post.author_id)
        return sorted(unique.values(), key=lambda post: id_key(post.external_id))
