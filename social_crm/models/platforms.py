"""The platforms a source can pull, shared by every model's selection."""

PLATFORMS = [
    ("feed", "RSS / Atom feed"),
    ("x", "X"),
    ("mastodon", "Mastodon"),
    ("bluesky", "Bluesky"),
]

#: what a source can pull; which modes fit which platform is checked on the source
MODES = [
    ("feed", "Feed"),
]
