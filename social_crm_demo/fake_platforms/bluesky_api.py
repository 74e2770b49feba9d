"""A Bluesky PDS and AppView on 127.0.0.1 speaking AT Protocol XRPC.

App-password sessions with JWT access and refresh tokens that tests can
expire; notifications, post search, posts, profiles and threads in the
lexicon shapes (DIDs, ``at://`` URIs, CIDs, ``$type``, millisecond ``Z``
dates, byte-indexed facets); ``ratelimit-*`` headers with a quota that ends
in 429; scripted replies for outages. :meth:`BlueskyServer.generate` builds a
large deterministic network for benchmarks.

As the AppView does: listings sort by ``sortAt``, min(createdAt, indexedAt),
which notifications show as their ``indexedAt``; listNotifications filters
by ``reasons`` after fetching a page, so a page may be empty with a cursor;
deleting a post drops its notifications and getPosts omits it; quotes of
``me``'s posts notify it; createSession reads an identifier with ``@`` as
an email.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import regex

from .server import LoopbackServer, Reply

EPOCH = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
SORTABLE_B32 = "234567abcdefghijklmnopqrstuvwxyz"
ACCESS_SCOPE = "com.atproto.appPass"  # what an app-password session's access token carries
REFRESH_SCOPE = "com.atproto.refresh"
SERVICE_DID = "did:web:loopback.bsky.example"
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
MAX_PAGE = 100
MAX_LOOKUP = 25
MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9.-]*[a-z0-9])", re.IGNORECASE)
LINK = re.compile(r"https?://\S+")
TAG = re.compile(r"(?<![\w#])#(\w+)")
#: the lexicon's limits on app.bsky.feed.post#text
MAX_GRAPHEMES, MAX_TEXT_BYTES = 300, 3000


def iso(moment):
    """A date as Bluesky writes it: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _b32(*parts, length):
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")[:length]


def _b64url(value):
    raw = json.dumps(value, separators=(",", ":")).encode() if isinstance(value, dict) else value
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def tid(moment, clock_id):
    """A record key: microseconds since 1970 and a clock id, base32-sortable."""
    value = (int(moment.timestamp() * 1_000_000) << 10) | (clock_id & 1023)
    return "".join(SORTABLE_B32[(value >> (5 * (12 - i))) & 31] for i in range(13))


def xrpc_error(status, error, message, headers=None):
    """An XRPC error reply, as the PDS sends it."""
    body = json.dumps({"error": error, "message": message})
    return Reply(status, body, {**JSON_HEADERS, **(headers or {})})


def _keyset(notification):
    """Notifications page by (sortAt in milliseconds, cid), as the AppView does."""
    return int(notification["sort_at"].timestamp() * 1000), notification["cid"]


class XrpcError(Exception):
    """Raised by a route: becomes the XRPC error reply."""

    def __init__(self, status, error, message):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass(eq=False)
class Account:
    """An actor: the DID stays, the handle may change."""

    did: str
    handle: str
    display_name: str = ""
    description: str = ""
    avatar: str = ""
    followers: int = 0
    follows: int = 0
    posts: int = 0
    created_at: datetime = EPOCH


@dataclass(eq=False)
class SamplePost:
    """An ``app.bsky.feed.post`` record and the counts the AppView keeps."""

    uri: str
    cid: str
    author: Account
    text: str
    created_at: datetime
    indexed_at: datetime
    parent: "SamplePost | None" = None
    root: "SamplePost | None" = None
    langs: tuple = ("en",)
    facets: list = field(default_factory=list)
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    #: ``(alt, width, height)`` of each image
    images: tuple = ()
    #: ``(alt, width, height)`` of a video
    video: tuple = ()
    #: ``(uri, title, description)`` of a link card
    external: tuple = ()
    quote: "SamplePost | None" = None
    #: the author's self-labels (``porn``, ``sexual``, ``nudity``, ``graphic-media``)
    self_labels: tuple = ()
    #: ``(labeler DID, value, negated)`` of labels a moderation service applied
    moderation: list = field(default_factory=list)

    @property
    def sort_at(self):
        """Where listings place the post: a post indexed late sorts by its
        creation date, one dated in the future by its indexing date."""
        return min(self.created_at, self.indexed_at)


class BlueskyServer(LoopbackServer):
    """One PDS account (``me``, which logs in with ``app_password``) among
    the accounts added; its notifications are the mentions of and replies
    to it, and the likes of its posts.

    ``script(nsid, *replies)`` makes the next calls of a method answer the
    given replies in turn (``None``: answer normally).
    """

    ROUTES = {
        "com.atproto.server.createSession": "_create_session",
        "com.atproto.server.refreshSession": "_refresh_session",
        "com.atproto.server.getSession": "_get_session",
        "app.bsky.notification.listNotifications": "_list_notifications",
        "app.bsky.feed.getPosts": "_get_posts",
        "app.bsky.actor.getProfiles": "_get_profiles",
        "app.bsky.feed.searchPosts": "_search_posts",
        "app.bsky.feed.getPostThread": "_get_post_thread",
        "com.atproto.repo.createRecord": "_create_record",
    }

    def __init__(
        self,
        handle="tentworks.example",
        app_password="tent-work-s2k9-x7qa",
        email="hello@tentworks.example",
        quota=3000,
        window=300,
        access_lifetime=7200,
        port=0,
    ):
        super().__init__(port)
        self.accounts = {}  # did -> Account
        self.posts = {}  # uri -> SamplePost
        self.children = {}  # parent uri -> [SamplePost]
        self.notifications = []  # notification views without "author"/"record" rendering
        self.tokens = {}  # token -> {"did", "scope", "exp"}
        self.scripted = {}
        #: the records created through createRecord, in order, as sent
        self.published = []
        self.quota, self.window, self.access_lifetime = quota, window, access_lifetime
        self.app_password, self.email = app_password, email
        self._used, self._window_start = 0, time.time()
        self._lock = threading.RLock()
        self._clock, self._serial = EPOCH, 0
        self._secret = hashlib.sha256(handle.encode()).digest()
        self.me = self.add_account(
            handle, display_name="Tentworks", description="Tents for every season.", followers=4210
        )

    # -- building the network ---------------------------------------------

    def add_account(self, handle, display_name="", description="", followers=0, avatar=None):
        """An account whose DID derives from its first handle."""
        did = f"did:plc:{_b32('did', handle, length=24)}"
        if avatar is None:
            image = _b32("avatar", did, length=52)
            avatar = f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei{image}@jpeg"
        account = Account(
            did=did,
            handle=handle.lower(),
            display_name=display_name,
            description=description,
            followers=followers,
            follows=followers // 3 + 7,
            avatar=avatar,
        )
        self.accounts[did] = account
        return account

    def add_post(
        self, author, text, reply_to=None, at=None, langs=("en",), likes=0, reposts=0, indexed_at=None, **embeds
    ):
        """Publish a post (a reply when ``reply_to`` is given, a quote when
        ``quote`` is) and notify ``me`` of it when it mentions, answers or
        quotes ``me``. ``indexed_at``: when the AppView indexed it, by
        default a moment after ``at``. ``embeds``: the ``images``,
        ``video``, ``external``, ``quote`` and ``self_labels`` of
        :class:`SamplePost`."""
        with self._lock:
            self._serial += 1
            if at is None:
                self._clock += timedelta(minutes=1)
                at = self._clock
            uri = f"at://{author.did}/app.bsky.feed.post/{tid(at, self._serial)}"
            post = SamplePost(
                uri=uri,
                cid=f"bafyrei{_b32('cid', uri, length=52)}",
                author=author,
                text=text,
                created_at=at,
                indexed_at=indexed_at or at + timedelta(milliseconds=200 + self._serial % 700),
                parent=reply_to,
                root=(reply_to.root or reply_to) if reply_to else None,
                langs=tuple(langs),
                facets=self._facets(text),
                likes=likes,
                reposts=reposts,
                **embeds,
            )
            self.posts[uri] = post
            author.posts += 1
            if reply_to is not None:
                reply_to.replies += 1
                self.children.setdefault(reply_to.uri, []).append(post)
            self._notify_post(post)
            return post

    def like(self, account, post, at=None):
        """``account`` likes ``post``; ``me`` is notified of likes of its posts."""
        with self._lock:
            self._serial += 1
            at = at or post.indexed_at + timedelta(minutes=5)
            post.likes += 1
            if post.author is self.me:
                uri = f"at://{account.did}/app.bsky.feed.like/{tid(at, self._serial)}"
                self.notifications.append(
                    {
                        "uri": uri,
                        "cid": f"bafyrei{_b32('cid', uri, length=52)}",
                        "author": account,
                        "reason": "like",
                        "reasonSubject": post.uri,
                        "sort_at": at,
                        "record": {
                            "$type": "app.bsky.feed.like",
                            "subject": {"uri": post.uri, "cid": post.cid},
                            "createdAt": iso(at),
                        },
                    }
                )

    def label(self, post, value, labeler="did:plc:ar7c4by46qjdydhdevvrndac", negated=False):
        """A moderation service (Bluesky's own by default) labels ``post``,
        or takes back its label (``negated``)."""
        post.moderation.append((labeler, value, negated))

    def delete(self, post):
        """Delete ``post``: lookups skip it, threads show a notFoundPost and
        the notifications it caused are gone."""
        with self._lock:
            self.posts.pop(post.uri, None)
            self.notifications = [n for n in self.notifications if n["uri"] != post.uri]

    def _notify_post(self, post):
        if post.author is self.me:
            return
        if post.parent is not None and self.me in (post.parent.author, post.root.author):
            reason, subject = "reply", post.parent.uri
        elif any(f["features"][0].get("did") == self.me.did for f in post.facets):
            reason, subject = "mention", None
        elif post.quote is not None and post.quote.author is self.me:
            reason, subject = "quote", post.quote.uri
        else:
            return
        self.notifications.append(
            {
                "uri": post.uri,
                "cid": post.cid,
                "author": post.author,
                "reason": reason,
                "reasonSubject": subject,
                "sort_at": post.sort_at,
                "post": post,
            }
        )

    def _facets(self, text):
        """Mentions of known handles, links and hashtags, by UTF-8 byte range."""
        handles = {account.handle: account for account in self.accounts.values()}
        found = []
        for match in MENTION.finditer(text):
            account = handles.get(match.group(1).lower())
            if account:
                found.append((match, {"$type": "app.bsky.richtext.facet#mention", "did": account.did}))
        found += [
            (match, {"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}) for match in LINK.finditer(text)
        ]
        found += [
            (match, {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}) for match in TAG.finditer(text)
        ]
        return [
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": len(text[: m.start()].encode()), "byteEnd": len(text[: m.end()].encode())},
                "features": [feature],
            }
            for m, feature in sorted(found, key=lambda pair: pair[0].start())
        ]

    @classmethod
    def generate(cls, posts=5000, authors=1000, threads=800, seed=0, **kwargs):
        """A network of ``authors`` accounts (one in four with a domain
        handle) writing ``posts`` posts in ``threads`` conversations, one
        post a few minutes after the other; ``me`` opens some threads and a
        third of the replies mention it. Same seed, same network."""
        rng = random.Random(seed)
        server = cls(**kwargs)
        people = [
            server.add_account(
                f"{rng.choice(FIRST_NAMES)}{n}.{'example' if n % 4 == 0 else 'bsky.social'}",
                display_name=f"{rng.choice(FIRST_NAMES).title()} {rng.choice(LAST_NAMES)}",
                description=rng.choice(BIOS),
                followers=int(rng.paretovariate(1.2) * 40),
            )
            for n in range(authors)
        ]
        root_at = set(rng.sample(range(1, posts), max(0, min(threads, posts) - 1))) | {0}
        moment, roots, members = EPOCH, [], {}
        for n in range(posts):
            moment += timedelta(seconds=rng.randint(30, 300))
            if n in root_at:
                author = server.me if rng.random() < 0.15 else rng.choice(people)
                post = server.add_post(
                    author,
                    rng.choice(ROOT_TEXTS).format(tag=rng.choice(TAGS)),
                    at=moment,
                    likes=rng.randint(0, 400),
                    reposts=rng.randint(0, 60),
                )
                roots.append(post)
                members[post.uri] = [post]
            else:
                root = rng.choice(roots[-60:])
                author = rng.choice(people) if rng.random() > 0.05 else server.me
                text = rng.choice(REPLY_TEXTS)
                if rng.random() < 0.33 and author is not server.me:
                    text = f"@{server.me.handle} {text}"
                post = server.add_post(
                    author,
                    text,
                    reply_to=rng.choice(members[root.uri]),
                    at=moment,
                    langs=(rng.choice(LANGS),),
                    likes=rng.randint(0, 30),
                )
                members[root.uri].append(post)
        server._clock = moment
        return server

    # -- tokens -----------------------------------------------------------

    def _issue(self, account, scope, lifetime):
        self._serial += 1
        now = int(time.time())
        header = {"typ": "at+jwt" if scope == ACCESS_SCOPE else "refresh+jwt", "alg": "HS256"}
        claims = {
            "scope": scope,
            "sub": account.did,
            "aud": SERVICE_DID,
            "iat": now,
            "exp": now + lifetime,
            "jti": _b32("jti", self._serial, now, length=32),
        }
        signing = f"{_b64url(header)}.{_b64url(claims)}"
        token = f"{signing}.{_b64url(hmac.new(self._secret, signing.encode(), hashlib.sha256).digest())}"
        self.tokens[token] = {"did": account.did, "scope": scope, "exp": claims["exp"]}
        return token

    def issue_session(self):
        """Tokens as a previous pull would have stored them."""
        with self._lock:
            return {
                "access_jwt": self._issue(self.me, ACCESS_SCOPE, self.access_lifetime),
                "refresh_jwt": self._issue(self.me, REFRESH_SCOPE, 90 * 86400),
            }

    def expire_tokens(self, access=True, refresh=False):
        """Make the tokens issued so far expired, as time would."""
        scopes = {scope for scope, chosen in ((ACCESS_SCOPE, access), (REFRESH_SCOPE, refresh)) if chosen}
        for info in self.tokens.values():
            if info["scope"] in scopes:
                info["exp"] = int(time.time()) - 1

    def revoke_app_password(self):
        """The owner deletes the app password: its sessions end with it."""
        self.tokens.clear()
        self.app_password = _b32("revoked", self.app_password, length=16)

    def _authenticate(self, request, scope=ACCESS_SCOPE):
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        info = self.tokens.get(header[len("Bearer ") :])
        if info is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        if info["scope"] != scope:
            raise XrpcError(400, "InvalidToken", "Bad token scope")
        if info["exp"] <= time.time():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        return self.accounts[info["did"]]

    # -- serving ----------------------------------------------------------

    def script(self, nsid, *replies):
        """Queue replies for the next calls of ``nsid`` (``None``: serve normally)."""
        self.scripted.setdefault(nsid, []).extend(replies)

    def calls(self, nsid):
        """Requests received for one XRPC method."""
        return [request for request in self.requests if request.path == f"/xrpc/{nsid}"]

    def handle(self, request):
        nsid = request.path.removeprefix("/xrpc/")
        with self._lock:
            queue = self.scripted.get(nsid)
            if queue:
                reply = queue.pop(0)
                if reply is not None:
                    return reply
            headers = self._count_call()
            if int(headers["ratelimit-remaining"]) < 0:
                headers["ratelimit-remaining"] = "0"
                return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
            route = self.ROUTES.get(nsid)
            if route is None:
                return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented", headers)
            try:
                payload = getattr(self, route)(request)
            except XrpcError as exc:
                return xrpc_error(exc.status, exc.error, exc.message, headers)
            return Reply(200, json.dumps(payload), {**JSON_HEADERS, **headers})

    def _count_call(self):
        now = time.time()
        if now - self._window_start >= self.window:
            self._used, self._window_start = 0, now
        self._used += 1
        return {
            "ratelimit-limit": str(self.quota),
            "ratelimit-remaining": str(self.quota - self._used),
            "ratelimit-reset": str(int(self._window_start + self.window)),
            "ratelimit-policy": f"{self.quota};w={self.window}",
        }

    @staticmethod
    def _limit(request, default, maximum=MAX_PAGE):
        try:
            limit = int(request.param("limit", default))
        except ValueError:
            raise XrpcError(400, "InvalidRequest", "limit must be an integer") from None
        if not 1 <= limit <= maximum:
            raise XrpcError(400, "InvalidRequest", f"limit can not be greater than {maximum}")
        return limit

    @staticmethod
    def _list(request, name):
        values = request.query.get(name, [])
        if len(values) > MAX_LOOKUP:
            raise XrpcError(400, "InvalidRequest", f"{name} must not have more than {MAX_LOOKUP} elements")
        return values

    def _session_view(self, account):
        return {
            "did": account.did,
            "handle": account.handle,
            "email": self.email,
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "active": True,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": account.did,
                "alsoKnownAs": [f"at://{account.handle}"],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.url}],
            },
        }

    def _create_session(self, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise XrpcError(400, "InvalidRequest", "Request body is not JSON") from None
        for name in ("identifier", "password"):
            if not body.get(name):
                raise XrpcError(400, "InvalidRequest", f'Input must have the property "{name}"')
        identifier = body["identifier"].lower()
        # the PDS looks an identifier with "@" up as an email, anything else as a handle or DID
        known = (self.email,) if "@" in identifier else (self.me.handle, self.me.did)
        if identifier not in known or not hmac.compare_digest(
            body["password"], self.app_password
        ):
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        return self._new_session(self.me)

    def _refresh_session(self, request):
        account = self._authenticate(request, REFRESH_SCOPE)
        del self.tokens[request.headers["authorization"][len("Bearer ") :]]  # refresh tokens are single use
        return self._new_session(account)

    def _new_session(self, account):
        return {
            **self._session_view(account),
            "accessJwt": self._issue(account, ACCESS_SCOPE, self.access_lifetime),
            "refreshJwt": self._issue(account, REFRESH_SCOPE, 90 * 86400),
        }

    def _create_record(self, request):
        """``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post``,
        validated against the lexicon as the PDS does (400 InvalidRequest
        with its message); the post joins the network as ``me``'s."""
        account = self._authenticate(request)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise XrpcError(400, "InvalidRequest", "Request body is not JSON") from None
        for name in ("repo", "collection", "record"):
            if not body.get(name):
                raise XrpcError(400, "InvalidRequest", f'Input must have the property "{name}"')
        if body["repo"] not in (account.did, account.handle):
            raise XrpcError(400, "InvalidRequest", "Input/repo must be the DID or handle of the authenticated user")
        if body["collection"] != "app.bsky.feed.post":
            raise XrpcError(400, "InvalidRequest", f"Unsupported collection: {body['collection']}")
        record = body["record"]
        invalid = "Invalid app.bsky.feed.post record: "
        text = record.get("text")
        if not isinstance(text, str):
            raise XrpcError(400, "InvalidRequest", invalid + 'Record must have the property "text"')
        if len(regex.findall(r"\X", text)) > MAX_GRAPHEMES or len(text.encode()) > MAX_TEXT_BYTES:
            raise XrpcError(
                400, "InvalidRequest", invalid + f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
            )
        if not isinstance(record.get("createdAt"), str):
            raise XrpcError(400, "InvalidRequest", invalid + 'Record must have the property "createdAt"')
        parent = None
        if "reply" in record:
            for ref in ("root", "parent"):
                strong = (record["reply"] or {}).get(ref)
                for name in ("uri", "cid"):
                    if not isinstance(strong, dict) or not isinstance(strong.get(name), str):
                        raise XrpcError(
                            400, "InvalidRequest", invalid + f'Record/reply/{ref} must have the property "{name}"'
                        )
            parent = self.posts.get(record["reply"]["parent"]["uri"])
        self.published.append(record)
        post = self.add_post(account, text, reply_to=parent)
        return {
            "uri": post.uri,
            "cid": post.cid,
            "commit": {"cid": f"bafyrei{_b32('commit', post.uri, length=52)}", "rev": post.uri.rsplit("/", 1)[-1]},
            "validationStatus": "valid",
        }

    def _get_session(self, request):
        return self._session_view(self._authenticate(request))

    def _list_notifications(self, request):
        self._authenticate(request)
        limit = self._limit(request, 50)
        reasons = set(request.query.get("reasons", []))
        items = sorted(self.notifications, key=_keyset, reverse=True)
        cursor = request.param("cursor")
        if cursor:
            millis, _sep, cid = cursor.partition("::")
            if not millis.isdigit():
                raise XrpcError(400, "InvalidRequest", "Malformed cursor")
            items = [n for n in items if _keyset(n) < (int(millis), cid)]
        fetched = items[:limit]
        # filtered after fetching: a page of likes comes back empty, with its cursor
        page = [n for n in fetched if not reasons or n["reason"] in reasons]
        payload = {"notifications": [self.notification_view(n) for n in page], "priority": False, "seenAt": iso(EPOCH)}
        if fetched:
            millis, cid = _keyset(fetched[-1])
            payload["cursor"] = f"{millis}::{cid}"
        return payload

    def _get_posts(self, request):
        self._authenticate(request)
        uris = self._list(request, "uris")
        return {"posts": [self.post_view(self.posts[uri]) for uri in uris if uri in self.posts]}

    def _get_profiles(self, request):
        self._authenticate(request)
        by_handle = {account.handle: account for account in self.accounts.values()}
        found = (self.accounts.get(actor) or by_handle.get(actor.lower()) for actor in self._list(request, "actors"))
        return {"profiles": [self.profile_detailed(account) for account in found if account]}

    def _search_posts(self, request):
        self._authenticate(request)
        query = (request.param("q") or "").strip().lower()
        if not query:
            raise XrpcError(400, "InvalidRequest", 'Params must have the property "q"')
        limit, offset = self._limit(request, 25), int(request.param("cursor") or 0)
        since, until = request.param("since"), request.param("until")
        hits = [
            post
            for post in self.posts.values()
            if all(term in post.text.lower() for term in query.split())
            and (not since or iso(post.sort_at) >= since.replace("+00:00", "Z"))
            and (not until or iso(post.sort_at) < until.replace("+00:00", "Z"))
        ]
        if request.param("sort", "latest") == "top":
            hits.sort(key=lambda post: (post.likes, post.sort_at), reverse=True)
        else:
            hits.sort(key=lambda post: post.sort_at, reverse=True)
        page = hits[offset : offset + limit]
        payload = {"posts": [self.post_view(post) for post in page], "hitsTotal": len(hits)}
        if offset + limit < len(hits):
            payload["cursor"] = str(offset + limit)
        return payload

    def _get_post_thread(self, request):
        self._authenticate(request)
        uri = request.param("uri") or ""
        post = self.posts.get(uri)
        if post is None:
            raise XrpcError(400, "NotFound", f"Post not found: {uri}")
        depth, height = int(request.param("depth", 6)), int(request.param("parentHeight", 80))
        return {"thread": self._thread_node(post, depth, height)}

    def _thread_node(self, post, depth, height, replies=True):
        node = {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(post)}
        if post.parent is not None and height > 0:
            parent = self.posts.get(post.parent.uri)
            node["parent"] = (
                self._thread_node(parent, 0, height - 1, replies=False)
                if parent
                else {"$type": "app.bsky.feed.defs#notFoundPost", "uri": post.parent.uri, "notFound": True}
            )
        if replies:
            children = self.children.get(post.uri, ()) if depth > 0 else ()
            node["replies"] = [self._thread_node(child, depth - 1, 0) for child in children if child.uri in self.posts]
        return node

    # -- lexicon views ----------------------------------------------------

    @staticmethod
    def profile_basic(account):
        """``app.bsky.actor.defs#profileViewBasic``: what posts embed."""
        view = {
            "did": account.did,
            "handle": account.handle,
            "displayName": account.display_name,
            "avatar": account.avatar,
            "associated": {"chat": {"allowIncoming": "following"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": iso(account.created_at),
        }
        return {key: value for key, value in view.items() if value != ""}

    def profile_view(self, account):
        """``#profileView``: what notifications embed."""
        view = {**self.profile_basic(account), "indexedAt": iso(account.created_at)}
        if account.description:
            view["description"] = account.description
        return view

    def profile_detailed(self, account):
        """``#profileViewDetailed``: what getProfiles returns, with counts."""
        return {
            **self.profile_view(account),
            "followersCount": account.followers,
            "followsCount": account.follows,
            "postsCount": account.posts,
        }

    @staticmethod
    def record(post):
        """The ``app.bsky.feed.post`` record as stored in the repository."""
        record = {
            "$type": "app.bsky.feed.post",
            "text": post.text,
            "createdAt": iso(post.created_at),
            "langs": list(post.langs),
        }
        if post.facets:
            record["facets"] = post.facets
        if post.parent is not None:
            record["reply"] = {
                "root": {"uri": post.root.uri, "cid": post.root.cid},
                "parent": {"uri": post.parent.uri, "cid": post.parent.cid},
            }
        embed = BlueskyServer._record_embed(post)
        if embed:
            record["embed"] = embed
        if post.self_labels:
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": value} for value in post.self_labels],
            }
        return record

    @staticmethod
    def _blob(post, name, mime):
        return {
            "$type": "blob",
            "ref": {"$link": f"bafkrei{_b32('blob', post.uri, name, length=52)}"},
            "mimeType": mime,
            "size": 184_320,
        }

    @staticmethod
    def _media_record(post):
        if post.images:
            images = [
                {
                    "alt": alt,
                    "image": BlueskyServer._blob(post, str(i), "image/jpeg"),
                    "aspectRatio": {"width": width, "height": height},
                }
                for i, (alt, width, height) in enumerate(post.images)
            ]
            return {"$type": "app.bsky.embed.images", "images": images}
        if post.video:
            alt, width, height = post.video
            return {
                "$type": "app.bsky.embed.video",
                "video": BlueskyServer._blob(post, "video", "video/mp4"),
                "alt": alt,
                "aspectRatio": {"width": width, "height": height},
            }
        if post.external:
            uri, title, description = post.external
            external = {"uri": uri, "title": title, "description": description}
            return {"$type": "app.bsky.embed.external", "external": external}
        return None

    @staticmethod
    def _record_embed(post):
        """The ``embed`` of the record as the author's app wrote it."""
        media = BlueskyServer._media_record(post)
        if post.quote is None:
            return media
        quoted = {"$type": "app.bsky.embed.record", "record": {"uri": post.quote.uri, "cid": post.quote.cid}}
        if media is None:
            return quoted
        return {"$type": "app.bsky.embed.recordWithMedia", "record": quoted, "media": media}

    @staticmethod
    def _cdn(post, kind, name):
        link = BlueskyServer._blob(post, name, "image/jpeg")["ref"]["$link"]
        return f"https://cdn.bsky.app/img/{kind}/plain/{post.author.did}/{link}@jpeg"

    def _media_view(self, post):
        if post.images:
            images = [
                {
                    "thumb": self._cdn(post, "feed_thumbnail", str(i)),
                    "fullsize": self._cdn(post, "feed_fullsize", str(i)),
                    "alt": alt,
                    "aspectRatio": {"width": width, "height": height},
                }
                for i, (alt, width, height) in enumerate(post.images)
            ]
            return {"$type": "app.bsky.embed.images#view", "images": images}
        if post.video:
            alt, width, height = post.video
            link = self._blob(post, "video", "video/mp4")["ref"]["$link"]
            return {
                "$type": "app.bsky.embed.video#view",
                "cid": link,
                "playlist": f"https://video.bsky.app/watch/{quote(post.author.did, safe='')}/{link}/playlist.m3u8",
                "thumbnail": f"https://video.bsky.app/watch/{quote(post.author.did, safe='')}/{link}/thumbnail.jpg",
                "alt": alt,
                "aspectRatio": {"width": width, "height": height},
            }
        if post.external:
            uri, title, description = post.external
            return {
                "$type": "app.bsky.embed.external#view",
                "external": {
                    "uri": uri,
                    "title": title,
                    "description": description,
                    "thumb": self._cdn(post, "feed_thumbnail", "external"),
                },
            }
        return None

    def _quoted_view(self, quoted, nested=True):
        """The ``record`` of an ``app.bsky.embed.record#view``: the quoted
        post, or a ``viewNotFound`` once it is deleted."""
        if quoted.uri not in self.posts:
            return {"$type": "app.bsky.embed.record#viewNotFound", "uri": quoted.uri, "notFound": True}
        view = {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": quoted.uri,
            "cid": quoted.cid,
            "author": self.profile_basic(quoted.author),
            "value": self.record(quoted),
            "labels": self.labels_view(quoted),
            "likeCount": quoted.likes,
            "replyCount": quoted.replies,
            "repostCount": quoted.reposts,
            "quoteCount": 0,
            "indexedAt": iso(quoted.indexed_at),
        }
        embed = self.embed_view(quoted, nested=False) if nested else None
        if embed:
            view["embeds"] = [embed]
        return view

    def embed_view(self, post, nested=True):
        """The post view's ``embed``, hydrated as the AppView does: the
        quoted post with its own embeds, a quote inside it without them."""
        media = self._media_view(post)
        if post.quote is None:
            return media
        quoted = {"$type": "app.bsky.embed.record#view", "record": self._quoted_view(post.quote, nested=nested)}
        if not nested:
            return quoted if media is None else media
        if media is None:
            return quoted
        return {"$type": "app.bsky.embed.recordWithMedia#view", "record": quoted, "media": media}

    @staticmethod
    def labels_view(post):
        """``com.atproto.label.defs#label`` of the author's self-labels and
        of moderation services."""
        stamp = iso(post.indexed_at)
        labels = [
            {"src": post.author.did, "uri": post.uri, "cid": post.cid, "val": value, "cts": stamp}
            for value in post.self_labels
        ]
        for labeler, value, negated in post.moderation:
            label = {"ver": 1, "src": labeler, "uri": post.uri, "cid": post.cid, "val": value, "cts": stamp}
            if negated:
                label["neg"] = True
            labels.append(label)
        return labels

    def post_view(self, post):
        """``app.bsky.feed.defs#postView``."""
        view = {
            "uri": post.uri,
            "cid": post.cid,
            "author": self.profile_basic(post.author),
            "record": self.record(post),
            "replyCount": post.replies,
            "repostCount": post.reposts,
            "likeCount": post.likes,
            "quoteCount": 0,
            "indexedAt": iso(post.indexed_at),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": self.labels_view(post),
        }
        embed = self.embed_view(post)
        if embed:
            view["embed"] = embed
        return view

    def notification_view(self, notification):
        """``app.bsky.notification.listNotifications#notification``."""
        view = {
            "uri": notification["uri"],
            "cid": notification["cid"],
            "author": self.profile_view(notification["author"]),
            "reason": notification["reason"],
            "record": self.record(notification["post"]) if "post" in notification else notification["record"],
            "isRead": False,
            "indexedAt": iso(notification["sort_at"]),
            "labels": self.labels_view(notification["post"]) if "post" in notification else [],
        }
        if notification.get("reasonSubject"):
            view["reasonSubject"] = notification["reasonSubject"]
        return view


FIRST_NAMES = (
    "ana",
    "ben",
    "chloe",
    "dario",
    "emma",
    "farid",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "kim",
    "lena",
    "marco",
    "nora",
    "omar",
    "paula",
    "quentin",
    "rosa",
    "sami",
    "tara",
    "ugo",
    "vera",
)
LAST_NAMES = ("Alpine", "Brook", "Cedar", "Dune", "Fjord", "Glen", "Heath", "Isle", "Juniper", "Knoll")
LANGS = ("en", "en", "en", "fr", "de")
BIOS = (
    "Weekend hiker.",
    "Ultralight nerd, gear reviews.",
    "Scout leader. Opinions my own.",
    "Photographer of mountains and rain.",
    "Runs a small outdoor shop in Annecy.",
    "",
)
TAGS = ("camping", "hiking", "ultralight", "bikepacking", "outdoors")
ROOT_TEXTS = (
    "Three nights in the rain and the tent stayed dry. #{tag}",
    "Which tent for a windy ridge? Looking at https://tentworks.example/ridge-2p #{tag}",
    "Field test of the new Ridge 2P tent: pitching took 4 minutes. #{tag}",
    "Anyone else had a tent pole snap at -10°C? #{tag}",
)
REPLY_TEXTS = (
    "Same here, the fly sheet is great in the wind.",
    "Did the zipper hold up? Mine jammed after a week.",
    "Where did you buy it? Shipping to Québec looks expensive.",
    "Thanks! Ordering one for the summer tent trip.",
    "The pole repair sleeve saved my trip too.",
)
