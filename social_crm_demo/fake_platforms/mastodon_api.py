"""A Mastodon instance's REST API: mention notifications, hashtag timelines,
direct conversations and thread context, in the JSON shapes Mastodon
documents (string snowflake ids, ISO dates with milliseconds, HTML content,
profile fields with ``verified_at``), paged with ``Link`` headers, guarded by
a Bearer token and an optional rate-limit quota, with scripted failures.

``MastodonApi.generate(posts=5000, authors=1000, threads=800, seed=1)``
builds a large deterministic instance for the benchmark; tests build small
ones with :meth:`add_account`, :meth:`post` and :meth:`direct`.
"""

import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import urlencode

from .server import LoopbackServer, Reply

START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
REMOTE_DOMAINS = ("mastodon.social", "fosstodon.org", "hachyderm.io", "social.trailhead.example")
LANGUAGES = ("en", "en", "en", "fr", "de")
PAGE_LIMITS = {"notifications": (40, 80), "statuses": (20, 40), "conversations": (20, 40)}
INVALID_TOKEN = {"error": "The access token is invalid"}
REVOKED_TOKEN = {"error": "The access token was revoked"}
#: what a status may hold; a URL counts 23 characters, a mention its username only
MAX_CHARS = 500
URL_LENGTH = 23
MENTION = re.compile(r"(?<![\w@])@(\w+)(?:@([\w.:-]+\w))?")
LINK = re.compile(r"https?://\S+")
VISIBILITIES = ("public", "unlisted", "private", "direct")


def status_length(text):
    """A status's length as Mastodon counts it against its limit."""
    text = LINK.sub("x" * URL_LENGTH, text)
    return len(MENTION.sub(lambda match: "@" + match.group(1), text))


def iso(moment):
    """Mastodon's datetime format: UTC with milliseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Account:
    """An account the instance knows, local or remote."""

    id: str
    username: str
    display_name: str = ""
    domain: str = ""  # empty: a local account of this instance
    note: str = ""
    followers: int = 0
    website: str = ""
    website_verified: bool = False


@dataclass
class Status:
    """A status; rendered to Mastodon's JSON on each request, with this server's URL."""

    id: str
    account: Account
    created_at: datetime
    text: str
    visibility: str = "public"
    in_reply_to: "Status | None" = None
    language: str = "en"
    tags: tuple = ()
    mentions: tuple = ()
    spoiler_text: str = ""
    favourites: int = 0
    reblogs: int = 0
    replies: int = 0
    sensitive: bool = False
    #: ``(type, description)`` of each attachment (image, video, gifv, audio)
    media: tuple = ()
    #: ``(url, title, description)`` of the link card the instance fetched
    card: tuple = ()


@dataclass
class Conversation:
    """A direct conversation of the owner, keyed by its thread's root."""

    id: str
    accounts: list
    last_status: Status
    unread: bool = True


@dataclass
class Notification:
    """A mention of the owner."""

    id: str
    status: Status
    created_at: datetime


@dataclass
class _Quota:
    """Mastodon's per-token rate limit: ``limit`` requests per ``window`` seconds."""

    limit: int
    window: int
    remaining: int = 0
    reset_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def spend(self):
        """Count one request; False once the window's quota is spent."""
        now = datetime.now(timezone.utc)
        if now >= self.reset_at:
            self.remaining, self.reset_at = self.limit, now + timedelta(seconds=self.window)
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True

    def headers(self):
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": iso(self.reset_at),
        }


class MastodonApi(LoopbackServer):
    """One instance whose token belongs to ``owner`` (the connected account).

    ``quota`` requests per ``window`` seconds are allowed when set (with
    ``X-RateLimit-*`` headers, 429 once spent); ``fail(path, *replies)``
    makes the next requests to ``path`` answer those replies;
    ``break_status(status, *keys)`` drops keys from a status's JSON.
    """

    def __init__(self, token="loopback-token", quota=None, window=300, port=0):
        super().__init__(port)
        self.token = token
        self.quota = _Quota(quota, window) if quota is not None else None
        self.accounts, self.statuses, self.notifications, self.conversations = [], [], [], {}
        self.scripted, self.broken, self.altered = {}, {}, {}
        #: the bodies of the statuses published through the API, in order
        self.published = []
        #: Idempotency-Key -> the status created with it (Mastodon keeps them an hour)
        self.idempotent = {}
        self.revoked = False
        self._clock = START
        self.owner = self.add_account(
            "tentworks",
            "Tentworks Outdoor Gear",
            followers=5400,
            website="https://tentworks.example",
            website_verified=True,
        )

    # ------------------------------------------------------------------
    # Building the instance
    # ------------------------------------------------------------------

    def add_account(
        self, username, display_name="", domain="", note="", followers=0, website="", website_verified=False
    ):
        account = Account(
            str(10_000 + len(self.accounts)),
            username,
            display_name or username.title(),
            domain,
            note or f"<p>{escape(display_name or username)} likes the outdoors.</p>",
            followers,
            website,
            website_verified,
        )
        self.accounts.append(account)
        return account

    def post(
        self,
        account,
        text,
        *,
        tag="",
        mention=False,
        reply_to=None,
        visibility="public",
        language="en",
        spoiler_text="",
        sensitive=False,
        media=(),
        card=(),
    ):
        """Publish a status; ``mention`` mentions the owner, which notifies it.
        ``media``: ``(type, description)`` of each attachment; ``card``:
        ``(url, title, description)`` of the link card."""
        self._clock += timedelta(minutes=1)
        mentions = (self.owner,) if mention else ()
        if reply_to is not None and reply_to.account is not account and reply_to.account not in mentions:
            mentions += (reply_to.account,)
        status = Status(
            id=str((int(self._clock.timestamp() * 1000) << 16) + len(self.statuses) % 65536),
            account=account,
            created_at=self._clock,
            text=text,
            visibility=visibility,
            in_reply_to=reply_to,
            language=language,
            tags=(tag,) if tag else (),
            mentions=mentions,
            spoiler_text=spoiler_text,
            sensitive=sensitive,
            media=tuple(media),
            card=tuple(card),
            favourites=len(self.statuses) * 7 % 23,
            reblogs=len(self.statuses) % 4,
        )
        self.statuses.append(status)
        if reply_to is not None:
            reply_to.replies += 1
        if self.owner in mentions and account is not self.owner:
            self.notifications.append(Notification(str(30_000_000 + len(self.notifications)), status, self._clock))
        return status

    def direct(self, account, text, to=None, reply_to=None):
        """A direct message between ``account`` and ``to`` (the owner by
        default); its conversation's last status becomes this one."""
        recipient = to or self.owner
        status = self.post(account, text, reply_to=reply_to, visibility="direct", mention=recipient is self.owner)
        if recipient is not self.owner and recipient not in status.mentions:
            status.mentions += (recipient,)
        root = status
        while root.in_reply_to is not None:
            root = root.in_reply_to
        conversation = self.conversations.setdefault(
            root.id,
            Conversation(
                str(400_000 + len(self.conversations)), [a for a in (account, recipient) if a is not self.owner], status
            ),
        )
        conversation.last_status = status
        return status

    def revoke(self):
        """The owner revokes the application's token."""
        self.revoked = True

    def find(self, status_id):
        return next((s for s in self.statuses if s.id == status_id), None)

    def fail(self, path, *replies):
        self.scripted.setdefault(path, []).extend(replies)

    def break_status(self, status, *keys):
        self.broken[status.id] = keys

    def alter_status(self, status, account=None, **fields):
        """Serve ``status`` with ``fields`` changed, and its account with the
        fields of ``account``: a malformed item among good ones."""
        self.altered[status.id] = (fields, account or {})

    @classmethod
    def generate(
        cls,
        posts=5000,
        authors=1000,
        threads=800,
        seed=1,
        tag="tentworks",
        context_only=0.005,
        mention_share=0.4,
        **options,
    ):
        """A deterministic instance: ``posts`` statuses by ``authors``
        accounts (plus the owner's replies) in ``threads`` reply threads.
        Statuses carry ``#tag`` (the hashtag timeline) and a share mention
        the owner (its mention notifications); ``context_only`` of them carry
        neither, so they are reached only as the ancestors of a reply."""
        rng = random.Random(seed)
        api = cls(**options)
        people = []
        for n in range(authors):
            domain = "" if n % 5 == 0 else REMOTE_DOMAINS[n % len(REMOTE_DOMAINS)]
            website = f"https://site{n}.example" if n % 3 == 0 else ""
            people.append(
                api.add_account(
                    f"camper{n}",
                    f"Camper {n}",
                    domain=domain,
                    followers=rng.randint(0, 20_000),
                    note=f"<p>Hiker #{n}.<br>Tents &amp; trails.</p>",
                    website=website,
                    website_verified=n % 6 == 0,
                )
            )
        roots = {0, *rng.sample(range(1, posts), min(threads, posts) - 1)}
        members = []  # statuses of each thread, by thread index
        for n in range(posts):
            reply_to = None
            if n in roots:
                members.append([])
                thread = members[-1]
            else:
                thread = rng.choice(members[-60:])
                reply_to = rng.choice(thread)
            author = people[n] if n < authors else rng.choice(people)
            if reply_to is not None and rng.random() < 0.05:
                author = api.owner
            hidden = author is not api.owner and rng.random() < context_only
            thread.append(
                api.post(
                    author,
                    f"Field note {n}: the new tent held up in the wind.",
                    tag="" if hidden else tag,
                    mention=not hidden and rng.random() < mention_share,
                    reply_to=reply_to,
                    language=rng.choice(LANGUAGES),
                )
            )
        return api

    # ------------------------------------------------------------------
    # JSON
    # ------------------------------------------------------------------

    def _account_urls(self, account):
        base = f"https://{account.domain}" if account.domain else self.url
        return f"{base}/@{account.username}", f"{base}/users/{account.username}"

    def account_json(self, account):
        url, uri = self._account_urls(account)
        fields = [{"name": "Pronouns", "value": "they/them", "verified_at": None}]
        if account.website:
            host = account.website.split("://", 1)[1]
            fields.append(
                {
                    "name": "Website",
                    "value": (
                        f'<a href="{escape(account.website)}" target="_blank" rel="nofollow noopener noreferrer me" '
                        f'translate="no"><span class="invisible">https://</span><span class="">{escape(host)}</span>'
                        '<span class="invisible"></span></a>'
                    ),
                    "verified_at": iso(START - timedelta(days=30)) if account.website_verified else None,
                }
            )
        return {
            "id": account.id,
            "username": account.username,
            "acct": f"{account.username}@{account.domain}" if account.domain else account.username,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": iso(START.replace(hour=0) - timedelta(days=400)),
            "note": account.note,
            "url": url,
            "uri": uri,
            "avatar": f"{self.url}/system/accounts/avatars/{account.id}/original/avatar.png",
            "avatar_static": f"{self.url}/system/accounts/avatars/{account.id}/original/avatar.png",
            "header": f"{self.url}/headers/original/missing.png",
            "header_static": f"{self.url}/headers/original/missing.png",
            "followers_count": account.followers,
            "following_count": 120,
            "statuses_count": 42,
            "last_status_at": "2026-11-01",
            "emojis": [],
            "fields": fields,
        }

    def _attachment_json(self, status, index, kind, description):
        """A ``MediaAttachment``: a remote status's media is served from this
        instance's cache (``url``), the origin's copy is ``remote_url``."""
        media_id = f"{status.id}{index:02d}"
        path = f"/system/media_attachments/files/{media_id[:3]}/{media_id[3:6]}/{media_id[6:9]}"
        extension = {"image": "jpeg", "audio": "mp3"}.get(kind, "mp4")
        origin = f"https://{status.account.domain}" if status.account.domain else None
        return {
            "id": media_id,
            "type": kind,
            "url": f"{self.url}{'/cache' if origin else ''}{path}/original/{media_id}.{extension}",
            "preview_url": f"{self.url}{'/cache' if origin else ''}{path}/small/{media_id}.jpeg",
            "remote_url": f"{origin}{path}/original/{media_id}.{extension}" if origin else None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": {"original": {"width": 1600, "height": 1200, "size": "1600x1200", "aspect": 1.3333333333333333}},
            "description": description,
            "blurhash": "UFBWY:8_0Jxv4nWBofV@0KRj%MM{oLofWBj[",
        }

    @staticmethod
    def _card_json(url, title, description):
        """A ``PreviewCard`` as the instance fetched it from the link's page."""
        return {
            "url": url,
            "title": title,
            "description": description,
            "language": "en",
            "type": "link",
            "author_name": "",
            "author_url": "",
            "provider_name": "",
            "provider_url": "",
            "html": "",
            "width": 400,
            "height": 210,
            "image": None,
            "image_description": "",
            "embed_url": "",
            "blurhash": None,
            "published_at": None,
            "authors": [],
        }

    def status_json(self, status):
        url, uri = self._account_urls(status.account)
        mentions = "".join(
            f'<span class="h-card" translate="no"><a href="{self._account_urls(a)[0]}" class="u-url mention">'
            f"@<span>{a.username}</span></a></span> "
            for a in status.mentions
        )
        tags = "".join(
            f' <a href="{self.url}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a>'
            for t in status.tags
        )
        parent = status.in_reply_to
        data = {
            "id": status.id,
            "created_at": iso(status.created_at),
            "in_reply_to_id": parent.id if parent else None,
            "in_reply_to_account_id": parent.account.id if parent else None,
            # a content warning marks the media sensitive too
            "sensitive": status.sensitive or bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{uri}/statuses/{status.id}",
            "url": f"{url}/{status.id}",
            "replies_count": status.replies,
            "reblogs_count": status.reblogs,
            "favourites_count": status.favourites,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": f"<p>{mentions}{escape(status.text)}{tags}</p>",
            "filtered": [],
            "reblog": None,
            "application": None if status.account.domain else {"name": "Web", "website": None},
            "account": self.account_json(status.account),
            "media_attachments": [self._attachment_json(status, i, *item) for i, item in enumerate(status.media)],
            "mentions": [
                {
                    "id": a.id,
                    "username": a.username,
                    "url": self._account_urls(a)[0],
                    "acct": self.account_json(a)["acct"],
                }
                for a in status.mentions
            ],
            "tags": [{"name": t, "url": f"{self.url}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "card": self._card_json(*status.card) if status.card else None,
            "poll": None,
        }
        for key in self.broken.get(status.id, ()):
            data.pop(key, None)
        fields, account = self.altered.get(status.id, ({}, {}))
        data.update(fields)
        if account and isinstance(data.get("account"), dict):
            data["account"] = {**data["account"], **account}
        return data

    # ------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------

    def handle(self, request):
        if self.scripted.get(request.path):
            return self.scripted[request.path].pop(0)
        rate = {}
        if self.quota is not None:
            allowed = self.quota.spend()
            rate = self.quota.headers()
            if not allowed:
                return self._json({"error": "Too many requests"}, 429, rate)
        authorized = request.headers.get("authorization") == f"Bearer {self.token}" and not self.revoked
        parts = request.path.strip("/").split("/")
        if parts == ["api", "v1", "statuses"] and request.method == "POST":
            if not authorized:
                return self._json(REVOKED_TOKEN if self.revoked else INVALID_TOKEN, 401, rate)
            return self._create_status(request, rate)
        if parts[:2] != ["api", "v1"] or request.method != "GET":
            return self._json({"error": "Record not found"}, 404, rate)
        route = parts[2:]
        if route[:1] == ["statuses"] and len(route) == 2:
            status = self.find(route[1])
            if status is None or (status.visibility in ("private", "direct") and not authorized):
                return self._json({"error": "Record not found"}, 404, rate)
            return self._json(self.status_json(status), 200, rate)
        if route[:1] == ["timelines"] and route[1:2] == ["tag"] and len(route) == 3:
            found = [s for s in self.statuses if route[2].lower() in s.tags and s.visibility == "public"]
            return self._page(request, "statuses", found, lambda s: s.id, self.status_json, rate)
        if route[:1] == ["statuses"] and len(route) == 3 and route[2] == "context":
            return self._context(route[1], authorized, rate)
        if not authorized:
            return self._json(REVOKED_TOKEN if self.revoked else INVALID_TOKEN, 401, rate)
        if route == ["accounts", "verify_credentials"]:
            return self._json(
                {
                    **self.account_json(self.owner),
                    "source": {
                        "privacy": "public",
                        "sensitive": False,
                        "language": "en",
                        "note": "",
                        "fields": [],
                        "follow_requests_count": 0,
                    },
                },
                200,
                rate,
            )
        if route == ["notifications"]:
            types = request.query.get("types[]") or ["mention"]
            found = self.notifications if "mention" in types else []
            return self._page(request, "notifications", found, lambda n: n.id, self._notification_json, rate)
        if route == ["conversations"]:
            return self._page(
                request,
                "conversations",
                list(self.conversations.values()),
                lambda c: c.last_status.id,
                self._conversation_json,
                rate,
            )
        return self._json({"error": "Record not found"}, 404, rate)

    def _create_status(self, request, rate):
        """``POST /api/v1/statuses`` (JSON or form body): validates as
        Mastodon does (422 with its message), then publishes as the owner;
        mentions name known accounts, a ``direct`` status joins or starts
        the conversation with them."""
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        text = str(body.get("status") or "")
        visibility = body.get("visibility") or "public"
        if not text.strip():
            return self._json({"error": "Validation failed: Text can't be blank"}, 422, rate)
        if status_length(text) > MAX_CHARS:
            return self._json({"error": f"Validation failed: Text character limit of {MAX_CHARS} exceeded"}, 422, rate)
        if visibility not in VISIBILITIES:
            return self._json({"error": f"'{visibility}' is not a valid visibility"}, 422, rate)
        key = request.headers.get("idempotency-key")
        if key in self.idempotent:
            return self._json(self.status_json(self.idempotent[key]), 200, rate)
        parent = None
        if body.get("in_reply_to_id"):
            parent = self.find(str(body["in_reply_to_id"]))
            if parent is None:
                return self._json({"error": "Record not found"}, 404, rate)
        mentioned = []
        for match in MENTION.finditer(text):
            username, domain = match.group(1).lower(), (match.group(2) or "").lower()
            domain = "" if domain == f"127.0.0.1:{self.port}" else domain
            account = next((a for a in self.accounts if a.username == username and a.domain == domain), None)
            if account is not None and account is not self.owner:
                mentioned.append(account)
        self.published.append(body)
        # the rendered content puts the mentions first, as links
        shown = " ".join(MENTION.sub("", text).split()) if mentioned else text
        status = self.post(self.owner, shown, reply_to=parent, visibility=visibility)
        status.mentions += tuple(a for a in mentioned if a not in status.mentions)
        if visibility == "direct":
            root = status
            while root.in_reply_to is not None:
                root = root.in_reply_to
            conversation = self.conversations.setdefault(
                root.id, Conversation(str(400_000 + len(self.conversations)), list(mentioned), status)
            )
            conversation.last_status = status
        if key:
            self.idempotent[key] = status
        return self._json(self.status_json(status), 200, rate)

    def _notification_json(self, notification):
        return {
            "id": notification.id,
            "type": "mention",
            "created_at": iso(notification.created_at),
            "group_key": f"ungrouped-{notification.id}",
            "account": self.account_json(notification.status.account),
            "status": self.status_json(notification.status),
        }

    def _conversation_json(self, conversation):
        return {
            "id": conversation.id,
            "unread": conversation.unread,
            "accounts": [self.account_json(a) for a in conversation.accounts],
            "last_status": self.status_json(conversation.last_status),
        }

    def _context(self, status_id, authorized, rate):
        status = next((s for s in self.statuses if s.id == status_id), None)
        if status is None or (status.visibility == "direct" and not authorized):
            return self._json({"error": "Record not found"}, 404, rate)
        ancestors, parent = [], status.in_reply_to
        while parent is not None:
            ancestors.insert(0, parent)
            parent = parent.in_reply_to
        descendants, frontier = [], {status.id}
        for candidate in self.statuses:  # in creation order: parents come first
            if candidate.in_reply_to is not None and candidate.in_reply_to.id in frontier:
                descendants.append(candidate)
                frontier.add(candidate.id)
        return self._json(
            {
                "ancestors": [self.status_json(s) for s in ancestors],
                "descendants": [self.status_json(s) for s in descendants],
            },
            200,
            rate,
        )

    def _page(self, request, kind, items, key, render, rate):
        """Mastodon's paging: newest first; ``max_id`` pages back,
        ``since_id`` bounds, ``min_id`` returns the page just after it;
        ``Link`` carries ``next`` (older) and ``prev`` (newer)."""
        default, maximum = PAGE_LIMITS[kind]
        try:
            limit = max(1, min(int(request.param("limit", default)), maximum))
            bounds = {
                name: int(request.param(name)) if request.param(name) else None
                for name in ("max_id", "since_id", "min_id")
            }
        except ValueError:
            return self._json({"error": "Validation failed"}, 422, rate)
        low = max(bounds["since_id"] or 0, bounds["min_id"] or 0)
        high = bounds["max_id"] or float("inf")
        found = sorted(((int(key(item)), item) for item in items), key=lambda pair: pair[0], reverse=True)
        found = [item for item_id, item in found if low < item_id < high]
        page = found[-limit:] if bounds["min_id"] is not None else found[:limit]
        headers = dict(rate)
        if page:
            query = {k: v for k, v in request.query.items() if k not in bounds}
            link = f"{self.url}{request.path}?"
            headers["Link"] = (
                f'<{link}{urlencode({**query, "max_id": key(page[-1])}, doseq=True)}>; rel="next", '
                f'<{link}{urlencode({**query, "min_id": key(page[0])}, doseq=True)}>; rel="prev"'
            )
        return self._json([render(item) for item in page], 200, headers)

    @staticmethod
    def _json(body, status, headers):
        return Reply(status, json.dumps(body), {"Content-Type": "application/json; charset=utf-8", **headers})
