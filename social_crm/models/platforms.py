"""The platforms a source can pull, what each can pull, and the source fields
that hold each platform's credentials."""

PLATFORMS = [
    ("feed", "RSS / Atom feed"),
    ("x", "X"),
    ("mastodon", "Mastodon"),
    ("bluesky", "Bluesky"),
]

MODES = [
    ("feed", "Feed"),
    ("mentions", "Mentions of the account"),
    ("search", "Search"),
    ("hashtag", "Hashtag"),
    ("dm", "Direct messages"),
]

PLATFORM_MODES = {
    "feed": ("feed",),
    "x": ("mentions", "search", "dm"),
    "mastodon": ("mentions", "hashtag", "dm"),
    "bluesky": ("mentions", "search"),
}

DEFAULT_API_URLS = {
    "x": "https://api.x.com/2",
    "mastodon": "https://mastodon.social",
    "bluesky": "https://bsky.social",
}

#: platform -> {client credential key: social.source field}
CREDENTIAL_FIELDS = {
    "feed": {},
    "x": {
        "bearer_token": "bearer_token",
        "consumer_key": "api_key",
        "consumer_secret": "api_secret",
        "access_token": "access_token",
        "access_token_secret": "access_token_secret",
    },
    "mastodon": {"access_token": "access_token"},
    "bluesky": {
        "identifier": "auth_login",
        "app_password": "auth_password",
        "access_jwt": "session_token",
        "refresh_jwt": "refresh_token",
    },
}

#: platforms that bill each post read
METERED_PLATFORMS = ("x",)
