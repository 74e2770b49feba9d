"""X's API v2 on 127.0.0.1: user lookup, mentions, recent search and direct
messages, with the payload shapes X documents (string ids, ``created_at``
with milliseconds, ``public_metrics``, ``includes`` for expansions, partial
``errors``), bearer and OAuth 1.0a authorization (signatures verified),
``since_id`` and token paging, per-endpoint rate limits with X's headers, and
scripted failures. :meth:`XApi.generate` builds a large deterministic dataset
for the benchmark.
"""

import base64
import binascii
import hashlib
import hmac
import html
import json
import random
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, unquote

from .server import LoopbackServer, Reply

TWITTER_EPOCH_MS = 1288834974657
RATE_WINDOW = 900
#: (smallest, largest, default) ``max_results`` of each timeline
PAGE_LIMITS = {"mentions": (5, 100, 10), "search": (10, 100, 10), "dm_events": (1, 100, 100)}
DEFAULT_FIELDS = {
    "tweet.fields": ("id", "text", "edit_history_tweet_ids"),
    "user.fields": ("id", "name", "username"),
    "dm_event.fields": ("id", "event_type", "text"),
    "media.fields": ("media_key", "type"),
}
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
MENTION = re.compile(r"@(\w{1,15})")
ROUTES = [
    ("me", re.compile(r"/2/users/me")),
    ("user_by_username", re.compile(r"/2/users/by/username/(\w{1,15})")),
    ("mentions", re.compile(r"/2/users/(\d+)/mentions")),
    ("search", re.compile(r"/2/tweets/search/recent")),
    ("dm_events", re.compile(r"/2/dm_events")),
    ("create_tweet", re.compile(r"/2/tweets")),
    ("dm_with", re.compile(r"/2/dm_conversations/with/(\d+)/messages")),
]
USER_CONTEXT_ONLY = ("me", "dm_events", "create_tweet", "dm_with")
#: endpoints that create: POST only, answered 201
CREATING = ("create_tweet", "dm_with")

FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gus", "Hana", "Ivo", "Jade", "Kofi", "Lena")
LAST_NAMES = ("Moreau", "Okafor", "Silva", "Tanaka", "Novak", "Haddad", "Kowalski", "Berg", "Rossi", "Lund")
TOPICS = (
    "the new trail tent held up in 60 km/h wind",
    "any news on the 2-person stove & pot kit?",
    "my order still says <pending> after a week",
    "loving the merino base layer on cold mornings",
    "is the repair service open in Lyon?",
    "the headlamp battery died after 3 hours",
    "which pack for a 5-day hut trip?",
    "great customer support today, thanks",
)
REPLIES = (
    "same here, mine did that too",
    "did you try the winter pegs?",
    "+1, following this",
    "we sent you a DM with a return label",
    "works fine for me & my partner",
    "which size did you get?",
)
LANGS = ("en",) * 8 + ("fr", "de", "es")
#: a field :meth:`XApi.alter` leaves out of the answer
DROP = object()


def snowflake(moment, sequence):
    """An X id: milliseconds since X's epoch, shifted, plus a sequence."""
    return str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) | (sequence & 0xFFF))


def x_time(moment):
    """``2026-11-20T09:12:03.000Z``, the way X writes every date."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def id_key(external_id):
    """Numeric order of X ids without converting them."""
    return len(external_id), external_id


def problem(status, title, detail, kind="about:blank", **extra):
    """X's problem JSON, as sent with 401, 403, 429 and 400."""
    return {"title": title, "detail": detail, "type": kind, "status": status, **extra}


def not_found(resource, parameter, value):
    """A partial error: X answers 200 and lists what it could not find."""
    return {
        "value": value,
        "detail": f"Could not find {resource} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": NOT_FOUND,
    }


def invalid_request(parameter, value, message):
    """X's 400 for a parameter it refuses."""
    return problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        INVALID_REQUEST,
        errors=[{"parameters": {parameter: [value]}, "message": message}],
    )


def _percent(value):
    return quote(str(value), safe="~")


class XApi(LoopbackServer):
    """X for one connected account (:meth:`connect`). Add data with
    :meth:`add_user`, :meth:`add_tweet`, :meth:`add_dm` or build it with
    :meth:`generate`; :meth:`credentials` gives what a source needs.

    ``rate_limit`` is the number of calls per endpoint per ``window`` seconds
    (X's 15 minutes by default);
    ``page_cap`` makes pages shorter than ``max_results`` (X may answer
    fewer). ``fail_next(reply)`` answers the next request with ``reply``,
    ``delay`` slows every answer, and ``rewrite(payload)`` may alter each
    JSON payload before it is sent (missing fields). :meth:`alter` serves a
    tweet or user with other fields (a bad item among good ones) and ``raw``
    swaps a text for bytes in every answer (invalid UTF-8, nesting that
    ``json.dumps`` cannot write)."""

    def __init__(self, port=0, rate_limit=450, page_cap=None, window=RATE_WINDOW):
        super().__init__(port)
        self.rate_limit, self.window = rate_limit, window
        self.page_cap = page_cap
        self.users, self.tweets, self.dm_events = {}, {}, {}
        #: media_key -> the media object X serves in ``includes.media``
        self.media = {}
        self.deleted = set()
        self.account = None
        self.bearer_token = "AAAAAAAAAAAAAAAAAAAAALoopbackBearer%2Fx0Token"
        self.consumer_key, self.consumer_secret = "LoopbackConsumerKey", "LoopbackConsumerSecret"
        self.access_token, self.access_token_secret = "", "LoopbackAccessTokenSecret"
        self.revoked = False
        #: what was published, in order: ``{"kind": "tweet" | "dm", ...the request's JSON body}``
        self.published = []
        #: user ids that accept no direct message from the account
        self.closed_dms = set()
        self.delay = 0.0
        self.rewrite = lambda payload: payload
        #: tweet or user id -> fields served instead of the stored ones
        self.altered = {}
        #: text -> bytes replaced in the body of every answer
        self.raw = {}
        self._failures = []
        self._windows = {}
        self._mentions, self._words = {}, {}
        #: timelines already sorted and filtered; emptied when data changes
        self._cache = {}
        self._by_username = {}
        self._clock = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
        self._sequence = 0

    # -- data ----------------------------------------------------------------

    def _next_id(self, moment):
        self._sequence += 1
        return snowflake(moment, self._sequence)

    def _tick(self, moment):
        if moment is None:
            self._clock += timedelta(seconds=37)
            moment = self._clock
        return moment

    def add_user(self, username, name=None, followers=0, description="", created_at=None):
        created_at = created_at or datetime(2019, 3, 4, 10, 0, tzinfo=timezone.utc)
        user_id = str(1590000000000000000 + 104729 * (len(self.users) + 1))
        user = {
            "id": user_id,
            "name": name or username.title(),
            "username": username,
            "created_at": x_time(created_at),
            "description": description,
            "protected": False,
            "verified": False,
            "location": "",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg",
            "url": f"https://t.co/{user_id[-8:]}",
            "entities": {
                "url": {
                    "urls": [
                        {
                            "start": 0,
                            "end": 23,
                            "url": f"https://t.co/{user_id[-8:]}",
                            "expanded_url": f"https://{username}.example",
                            "display_url": f"{username}.example",
                        }
                    ]
                }
            },
            "public_metrics": {
                "followers_count": followers,
                "following_count": followers // 3 + 12,
                "tweet_count": 40 + followers % 977,
                "listed_count": followers // 100,
                "like_count": 7,
            },
        }
        self.users[user_id] = user
        self._by_username[username.lower()] = user
        return user

    def connect(self, user_id):
        """Make ``user_id`` the account the OAuth 1.0a access token is for;
        X access tokens start with their user id."""
        self.account = user_id
        self.access_token = f"{user_id}-LoopbackAccessToken0a1b2c3d"

    def credentials(self, kind="bearer"):
        """The credentials a source stores: an app-only ``bearer`` token or
        the ``user`` context keys of the connected account."""
        if kind == "bearer":
            return {"bearer_token": self.bearer_token}
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
        }

    def add_media(self, kind, alt_text=None):
        """A media upload (``photo``, ``video`` or ``animated_gif``) as X
        describes it: a photo has its ``url``, a video or GIF a still
        (``preview_image_url``) and MP4 ``variants``; its key for ``add_tweet``."""
        number = 1_860_000_000_000_000_000 + len(self.media)
        prefix = {"photo": 3, "video": 7, "animated_gif": 16}[kind]
        media = {"media_key": f"{prefix}_{number}", "type": kind, "width": 1600, "height": 1200}
        if kind == "photo":
            media["url"] = f"https://pbs.twimg.com/media/G{number:x}.jpg"
        else:
            folder = "ext_tw_video" if kind == "video" else "tweet_video"
            media["preview_image_url"] = f"https://pbs.twimg.com/{folder}_thumb/{number}/pu/img/still.jpg"
            base = f"https://video.twimg.com/{folder}/{number}"
            media["variants"] = [
                {"content_type": "application/x-mpegURL", "url": f"{base}/pl/a.m3u8"},
                {"bit_rate": 256000, "content_type": "video/mp4", "url": f"{base}/vid/480x360/low.mp4"},
                {"bit_rate": 2176000, "content_type": "video/mp4", "url": f"{base}/vid/1280x720/high.mp4"},
            ]
            if kind == "video":
                media["duration_ms"] = 12_345
        if alt_text is not None:
            media["alt_text"] = alt_text
        self.media[media["media_key"]] = media
        return media["media_key"]

    def add_tweet(
        self,
        author_id,
        text,
        reply_to=None,
        quote_of=None,
        created_at=None,
        lang="en",
        media_keys=(),
        possibly_sensitive=False,
    ):
        """A tweet; ``text`` is plain, stored with ``&``, ``<`` and ``>``
        escaped as X sends them. A reply joins its parent's conversation.
        ``media_keys`` come from :meth:`add_media`."""
        moment = self._tick(created_at)
        tweet_id = self._next_id(moment)
        parent = self.tweets[reply_to] if reply_to else None
        references = ([{"type": "replied_to", "id": reply_to}] if parent else []) + (
            [{"type": "quoted", "id": quote_of}] if quote_of else []
        )
        tweet = {
            "id": tweet_id,
            "text": html.escape(text, quote=False),
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author_id,
            "created_at": x_time(moment),
            "lang": lang,
            "possibly_sensitive": possibly_sensitive,
            "conversation_id": parent["conversation_id"] if parent else tweet_id,
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
        }
        if parent:
            tweet["in_reply_to_user_id"] = parent["author_id"]
            parent["public_metrics"]["reply_count"] += 1
        if references:
            tweet["referenced_tweets"] = references
        if media_keys:
            tweet["attachments"] = {"media_keys": list(media_keys)}
        if quote_of:
            self.tweets[quote_of]["public_metrics"]["quote_count"] += 1
        self._words[tweet_id] = text.lower()
        self._mentions[tweet_id] = {
            self._by_username[name.lower()]["id"] for name in MENTION.findall(text) if name.lower() in self._by_username
        }
        self.tweets[tweet_id] = tweet
        self._cache.clear()
        return tweet

    def add_dm(self, sender_id, recipient_id, text, created_at=None):
        moment = self._tick(created_at)
        event_id = self._next_id(moment)
        event = {
            "id": event_id,
            "event_type": "MessageCreate",
            "text": html.escape(text, quote=False),
            "sender_id": sender_id,
            "created_at": x_time(moment),
            "dm_conversation_id": "-".join(sorted((sender_id, recipient_id), key=id_key)),
            "_participants": (sender_id, recipient_id),
        }
        self.dm_events[event_id] = event
        return event

    def delete(self, tweet_id):
        """The tweet disappears; replies still reference it."""
        self.deleted.add(tweet_id)
        self._cache.clear()

    def mentions_of(self, user_id):
        """Tweets mentioning ``user_id``, newest first, as the server serves them."""
        return self._selected(("mentions", user_id), lambda t: user_id in self._mentions[t["id"]])

    def _selected(self, key, keep):
        """Tweets not deleted that ``keep`` accepts, newest first; cached by
        ``key``, as the benchmark pages through thousands of them."""
        if key not in self._cache:
            if "all" not in self._cache:
                self._cache["all"] = sorted(
                    (t for t in self.tweets.values() if t["id"] not in self.deleted),
                    key=lambda t: id_key(t["id"]),
                    reverse=True,
                )
            self._cache[key] = [t for t in self._cache["all"] if keep(t)]
        return self._cache[key]

    @classmethod
    def generate(cls, posts=5000, authors=1000, threads=800, dms=0, seed=1, **options):
        """A deterministic X: ``posts`` tweets by ``authors`` distinct accounts
        (the connected ``@acme`` among them) in exactly ``threads``
        conversations over six days, each tweet mentioning @acme unless
        @acme wrote it, plus ``dms`` direct messages with @acme."""
        rng = random.Random(seed)
        api = cls(**options)
        account = api.add_user(
            "acme", "Acme Outdoor", followers=48213, description="Gear for long trails. Support: DM us."
        )
        api.connect(account["id"])
        people = [
            api.add_user(
                f"{FIRST_NAMES[n % 12]}{LAST_NAMES[n // 12 % 10]}{n}".lower()[:15],
                f"{FIRST_NAMES[n % 12]} {LAST_NAMES[n // 12 % 10]}",
                followers=rng.randint(0, 25000),
                description=f"Hiker #{n}. Opinions my own.",
            )
            for n in range(max(authors - 1, 1))
        ]
        first_posts = rng.sample(people, len(people))

        def someone():
            """Each person writes once before anyone writes twice."""
            return first_posts.pop() if first_posts else rng.choice(people)

        end = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
        step = timedelta(days=6) / max(posts + dms, 1)
        moments = [end - timedelta(days=6) + step * n for n in range(posts + dms)]
        dm_slots = set(rng.sample(range(posts + dms), dms))
        conversations, roots_left, written = [], threads, 0
        for slot, moment in enumerate(moments):
            if slot in dm_slots:
                person = rng.choice(people[:50])
                sender, recipient = rng.choice(((person, account), (account, person)))
                api.add_dm(sender["id"], recipient["id"], rng.choice(TOPICS + REPLIES), created_at=moment)
                continue
            left, written = posts - written, written + 1
            if roots_left and (not conversations or roots_left >= left or rng.random() < roots_left / left):
                roots_left -= 1
                quote_of = conversations[-1][0]["id"] if conversations and rng.random() < 0.03 else None
                if rng.random() < 0.05:
                    author, text = account, f"Acme news: {rng.choice(TOPICS)}. Tell us what you think!"
                else:
                    author, text = someone(), f"@acme {rng.choice(TOPICS)}"
                conversations.append(
                    [api.add_tweet(author["id"], text, quote_of=quote_of, created_at=moment, lang=rng.choice(LANGS))]
                )
                continue
            conversation = rng.choice(conversations)
            parent = rng.choice(conversation)
            to = api.users[parent["author_id"]]["username"]
            if to != "acme" and rng.random() < 0.1:
                author, text = account, f"@{to} thanks, the Acme team is on it"
            else:
                author, text = someone(), f"@{to} {rng.choice(REPLIES)}" + ("" if to == "acme" else " @acme")
            conversation.append(
                api.add_tweet(author["id"], text, reply_to=parent["id"], created_at=moment, lang=rng.choice(LANGS))
            )
        for tweet in api.tweets.values():
            tweet["public_metrics"].update(
                like_count=rng.randint(0, 120), retweet_count=rng.randint(0, 15), impression_count=rng.randint(50, 9000)
            )
        return api

    # -- scripting -----------------------------------------------------------

    def alter(self, item_id, **fields):
        """Serve the tweet or user ``item_id`` with ``fields`` changed; a
        field set to :data:`DROP` is left out (as X leaves out what it lacks)."""
        self.altered.setdefault(item_id, {}).update(fields)

    def fail_next(self, reply, count=1):
        """Answer the next ``count`` requests with ``reply``."""
        self._failures.extend([reply] * count)

    def revoke(self):
        """Every token stops working, as when the user revokes the app."""
        self.revoked = True

    # -- HTTP ----------------------------------------------------------------

    def handle(self, request):
        if self._failures:
            return self._failures.pop(0)
        for endpoint, pattern in ROUTES:
            match = pattern.fullmatch(request.path)
            if match:
                break
        else:
            return self._reply(404, problem(404, "Not Found Error", f"{request.path} is not an X API v2 endpoint"))
        if (request.method == "POST") != (endpoint in CREATING):
            return self._reply(405, problem(405, "Method Not Allowed", f"{request.method} {request.path}"))
        caller = self._caller(request)
        if caller is None:
            return self._reply(401, problem(401, "Unauthorized", "Unauthorized"))
        if caller == "app" and endpoint in USER_CONTEXT_ONLY:
            return self._reply(
                403,
                problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                    "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                ),
            )
        allowed, headers = self._spend(endpoint)
        if not allowed:
            return self._reply(429, problem(429, "Too Many Requests", "Too Many Requests"), headers)
        status, payload = getattr(self, f"_serve_{endpoint}")(request, *match.groups())
        if status in (200, 201):
            payload = self.rewrite(payload)
        return self._reply(status, payload, headers)

    def _reply(self, status, payload, headers=None):
        body = json.dumps(payload)
        if self.raw:
            body = body.encode("utf-8", "surrogatepass")
            for text, raw in self.raw.items():
                body = body.replace(text.encode(), raw)
        return Reply(
            status,
            body,
            delay=self.delay,
            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        )

    def _caller(self, request):
        """``"app"`` for the bearer token, the account's id for a valid OAuth
        1.0a signature, None for anything else."""
        if self.revoked:
            return None
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            return "app" if hmac.compare_digest(header[7:], self.bearer_token) else None
        if header.startswith("OAuth "):
            oauth = {key: unquote(value) for key, value in re.findall(r'(\w+)="([^"]*)"', header)}
            if (
                oauth.get("oauth_consumer_key") == self.consumer_key
                and self.access_token
                and oauth.get("oauth_token") == self.access_token
                and oauth.get("oauth_signature_method") == "HMAC-SHA1"
                and hmac.compare_digest(oauth.get("oauth_signature", ""), self._signature(request, oauth))
            ):
                return self.account
        return None

    def _signature(self, request, oauth):
        """The HMAC-SHA1 signature of RFC 5849 §3.4 for this request."""
        params = [(k, v) for k, values in request.query.items() for v in values]
        params += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        normalized = "&".join(f"{k}={v}" for k, v in sorted((_percent(k), _percent(v)) for k, v in params))
        base = "&".join(
            _percent(part)
            for part in (request.method, f"http://{request.headers.get('host', '').lower()}{request.path}", normalized)
        )
        key = f"{_percent(self.consumer_secret)}&{_percent(self.access_token_secret)}"
        return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()

    def _spend(self, endpoint):
        """Count one call in the endpoint's window: whether it is allowed,
        and X's rate-limit headers."""
        now = int(time.time())
        reset, used = self._windows.get(endpoint, (0, 0))
        if now >= reset:
            reset, used = now + self.window, 0
        allowed = used < self.rate_limit
        used += allowed
        self._windows[endpoint] = (reset, used)
        return allowed, {
            "x-rate-limit-limit": str(self.rate_limit),
            "x-rate-limit-remaining": str(self.rate_limit - used),
            "x-rate-limit-reset": str(reset),
        }

    # -- endpoints -----------------------------------------------------------

    def _serve_me(self, request):
        return 200, {"data": self._view(self.users[self.account], request, "user.fields")}

    def _serve_user_by_username(self, request, username):
        user = self._by_username.get(username.lower())
        if user is None:
            return 200, {"errors": [not_found("user", "username", username)]}
        return 200, {"data": self._view(user, request, "user.fields")}

    def _serve_mentions(self, request, user_id):
        if user_id not in self.users:
            return 200, {"errors": [not_found("user", "id", user_id)]}
        return self._tweet_page(request, "mentions", self.mentions_of(user_id), "pagination_token")

    def _serve_search(self, request):
        query = request.param("query", "")
        if not query.strip():
            return 400, invalid_request("query", query, "The `query` query parameter can not be empty")
        terms = [term.lower() for term in query.split() if ":" not in term and not term.startswith("-")]
        matches = self._selected(("search", *terms), lambda t: all(term in self._words[t["id"]] for term in terms))
        token_name = "next_token" if request.param("next_token") else "pagination_token"
        return self._tweet_page(request, "search", matches, token_name)

    def _serve_dm_events(self, request):
        events = sorted(
            (e for e in self.dm_events.values() if self.account in e["_participants"]),
            key=lambda e: id_key(e["id"]),
            reverse=True,
        )
        status, page, meta = self._page(request, "dm_events", events, "pagination_token")
        if status != 200:
            return status, page
        payload = {"data": [self._view(e, request, "dm_event.fields") for e in page]} if page else {}
        users = []
        if "sender_id" in self._fields(request, "expansions"):
            users += [e["sender_id"] for e in page]
        if "participant_ids" in self._fields(request, "expansions"):
            users += [p for e in page for p in e["_participants"]]
        return 200, self._with_includes(request, payload, users, {}, [], meta)

    def _serve_create_tweet(self, request):
        """``POST /2/tweets``: X refuses a text the account already posted
        and a reply to a tweet that is gone, both with 403."""
        body = json.loads(request.body or b"{}")
        text = body.get("text") or ""
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not text.strip():
            return 400, invalid_request("text", text, "The `text` field can not be empty")
        escaped = html.escape(text, quote=False)
        if any(t["author_id"] == self.account and t["text"] == escaped for t in self.tweets.values()):
            return 403, problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        if reply_to and (reply_to not in self.tweets or reply_to in self.deleted):
            return 403, problem(
                403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        self.published.append({"kind": "tweet", **body})
        tweet = self.add_tweet(self.account, text, reply_to=reply_to)
        return 201, {"data": {"id": tweet["id"], "text": tweet["text"], "edit_history_tweet_ids": [tweet["id"]]}}

    def _serve_dm_with(self, request, participant_id):
        """``POST /2/dm_conversations/with/:participant_id/messages``."""
        body = json.loads(request.body or b"{}")
        if participant_id not in self.users:
            return 200, {"errors": [not_found("user", "participant_id", participant_id)]}
        if participant_id in self.closed_dms:
            return 403, problem(403, "Forbidden", "You cannot send messages to this user.")
        self.published.append({"kind": "dm", "participant_id": participant_id, **body})
        event = self.add_dm(self.account, participant_id, body.get("text") or "")
        return 201, {"data": {"dm_conversation_id": event["dm_conversation_id"], "dm_event_id": event["id"]}}

    # -- helpers -------------------------------------------------------------

    def _fields(self, request, name):
        requested = [f for f in (request.param(name) or "").split(",") if f]
        return [*DEFAULT_FIELDS.get(name, ()), *requested]

    def _view(self, item, request, fields_param):
        fields = self._fields(request, fields_param)
        view = {name: item[name] for name in dict.fromkeys(fields) if name in item}
        for name, value in self.altered.get(item["id"], {}).items():
            if value is DROP:
                view.pop(name, None)
            else:
                view[name] = value
        return view

    def _page(self, request, timeline, items, token_name):
        """One page of ``items`` (newest first) after ``since_id`` and the
        paging token, or a 400 for parameters X would refuse."""
        low, high, default = PAGE_LIMITS[timeline]
        raw = request.param("max_results", str(default))
        if not raw.isdigit() or not low <= int(raw) <= high:
            return (
                400,
                invalid_request(
                    "max_results",
                    raw,
                    f"The `max_results` query parameter value [{raw}] " f"is not between {low} and {high}",
                ),
                None,
            )
        size = min(int(raw), self.page_cap or high)
        since, token = request.param("since_id"), request.param(token_name)
        until = None
        if token:
            try:
                until = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
            except (binascii.Error, UnicodeDecodeError):
                until = ""
            if not until.isdigit():
                return (
                    400,
                    invalid_request(
                        token_name, token, f"The `{token_name}` query parameter value " f"[{token}] is not valid"
                    ),
                    None,
                )
        selected = []
        for item in items:
            if since and id_key(item["id"]) <= id_key(since):
                break
            if not until or id_key(item["id"]) < id_key(until):
                selected.append(item)
            if len(selected) > size:
                break
        page = selected[:size]
        meta = {"result_count": len(page)}
        if page and timeline != "dm_events":
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if len(selected) > size:
            meta["next_token"] = base64.b32encode(page[-1]["id"].encode()).decode().rstrip("=").lower()
        return 200, page, meta

    def _tweet_page(self, request, timeline, tweets, token_name):
        status, page, meta = self._page(request, timeline, tweets, token_name)
        if status != 200:
            return status, page
        expansions = self._fields(request, "expansions")
        payload = {"data": [self._view(t, request, "tweet.fields") for t in page]} if page else {}
        users, included, errors, media = [], {}, [], []
        for tweet in page:
            if "attachments.media_keys" in expansions:
                media += tweet.get("attachments", {}).get("media_keys", ())
            if "author_id" in expansions:
                users.append(tweet["author_id"])
            if "in_reply_to_user_id" in expansions and tweet.get("in_reply_to_user_id"):
                users.append(tweet["in_reply_to_user_id"])
            if "referenced_tweets.id" not in expansions:
                continue
            for reference in tweet.get("referenced_tweets", ()):
                target = self.tweets.get(reference["id"])
                if target is None or target["id"] in self.deleted:
                    errors.append(not_found("tweet", "referenced_tweets.id", reference["id"]))
                    continue
                included[target["id"]] = target
                if "referenced_tweets.id.author_id" in expansions:
                    users.append(target["author_id"])
        payload = self._with_includes(request, payload, users, included, errors, meta)
        if media:
            fields = self._fields(request, "media.fields")
            media_views = [
                {name: value for name, value in self.media[key].items() if name in fields}
                for key in dict.fromkeys(media)
            ]
            payload["includes"] = {"media": media_views, **payload.get("includes", {})}
        return 200, payload

    def _with_includes(self, request, payload, user_ids, tweets, errors, meta):
        includes = {}
        if user_ids:
            includes["users"] = [self._view(self.users[u], request, "user.fields") for u in dict.fromkeys(user_ids)]
        if tweets:
            includes["tweets"] = [self._view(t, request, "tweet.fields") for t in tweets.values()]
        if includes:
            payload["includes"] = includes
        if errors:
            payload["errors"] = errors
        payload["meta"] = meta
        return payload
