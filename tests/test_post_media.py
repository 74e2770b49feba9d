"""What posts carry besides text, on every platform: media as links with
their alt text, link cards, quoted posts (stored too when the answer carries
them), and the labels, content warnings and sensitive marks that make a post
shown collapsed. Each platform's server answers as the real service does."""

import pytest

from channels import LinkCard, Media, Post, SourceSettings, Transport, client_for
from fake_platforms.bluesky_api import BlueskyServer
from fake_platforms.mastodon_api import MastodonApi
from fake_platforms.x_api import XApi


def posts_of(batches):
    return {post.external_id: post for batch in batches for post in batch.posts}


# ----------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------


def test_post_keeps_only_web_links_and_readable_labels():
    post = Post(
        external_id="1",
        thread_key="1",
        author_id="a",
        media=(
            Media("javascript:alert(1)", kind="image", alt="x"),
            Media("", kind="video", preview_url="https://cdn.example/still.jpg"),
            Media("https://cdn.example/a.jpg", kind="hologram", alt=" tent \x00"),
            "not a medium",
        ),
        link_card=LinkCard("data:text/html,hi", "Title"),
        labels=("porn", "", 3, "porn", " nudity "),
        content_warning=" spoilers ",
        sensitive="yes",
    )
    assert post.media == (
        Media("https://cdn.example/still.jpg", "video", "", "https://cdn.example/still.jpg"),
        Media("https://cdn.example/a.jpg", "other", "tent", ""),
    )
    assert post.link_card is None
    assert post.labels == ("porn", "nudity")
    assert (post.content_warning, post.sensitive) == ("spoilers", False)


# ----------------------------------------------------------------------
# X
# ----------------------------------------------------------------------


@pytest.fixture
def x_api():
    with XApi.generate(posts=6, authors=3, threads=2, seed=5) as server:
        yield server


def x_pull(api):
    settings = SourceSettings(
        platform="x",
        mode="mentions",
        target="@acme",
        api_url=f"{api.url}/2",
        allow_local=True,
        credentials=api.credentials("bearer"),
        max_items=1000,
    )
    return posts_of(list(client_for(settings).pull({})))


def test_x_image_only_reply_video_and_sensitive_mark(x_api):
    someone = next(user_id for user_id in x_api.users if user_id != x_api.account)
    root = x_api.add_tweet(x_api.account, "Our Ridge 2P is out")
    photo = x_api.add_media("photo", alt_text="Tent pole snapped in two at the joint")
    video = x_api.add_media("video")
    reply = x_api.add_tweet(
        someone, "@acme https://t.co/xYz12", reply_to=root["id"], media_keys=[photo, video], possibly_sensitive=True
    )
    post = x_pull(x_api)[reply["id"]]
    assert post.parent_id == root["id"] and post.sensitive is True
    number = photo.split("_")[1]
    assert post.media[0] == Media(
        f"https://pbs.twimg.com/media/G{int(number):x}.jpg", "image", "Tent pole snapped in two at the joint", ""
    )
    clip = post.media[1]
    assert clip.kind == "video" and clip.url.endswith("/vid/1280x720/high.mp4"), "the best MP4 variant"
    assert clip.preview_url.endswith("/pu/img/still.jpg") and clip.alt == ""
    query = x_api.requests[-1].query
    assert "attachments.media_keys" in query["expansions"][0]
    assert {"url", "preview_image_url", "alt_text", "type", "variants"} <= set(query["media.fields"][0].split(","))
    assert {"attachments", "possibly_sensitive"} <= set(query["tweet.fields"][0].split(","))


def test_x_quoted_tweet_is_linked_and_read(x_api):
    someone = next(user_id for user_id in x_api.users if user_id != x_api.account)
    quoted = x_api.add_tweet(someone, "Pitched the Ridge 2P in 4 minutes")
    quote = x_api.add_tweet(someone, "@acme look at this one", quote_of=quoted["id"])
    posts = x_pull(x_api)
    assert posts[quote["id"]].quoted_id == quoted["id"]
    assert "Pitched the Ridge 2P" in posts[quoted["id"]].body_html, "the quoted tweet comes in includes.tweets"
    assert posts[quote["id"]].parent_id == "" and posts[quote["id"]].sensitive is False


# ----------------------------------------------------------------------
# Mastodon
# ----------------------------------------------------------------------


@pytest.fixture
def mastodon_api():
    with MastodonApi(token="loopback-token") as server:
        yield server


def mastodon_pull(api):
    settings = SourceSettings(
        platform="mastodon",
        mode="hashtag",
        target="tentworks",
        api_url=api.url,
        credentials={"access_token": "loopback-token"},
        allow_local=True,
    )
    posts = posts_of(list(client_for(settings).pull({})))
    return {key.rsplit(":", 1)[1]: post for key, post in posts.items()}


def test_mastodon_media_alt_text_and_remote_copy(mastodon_api):
    jo = mastodon_api.add_account("jo", domain="fosstodon.org")
    status = mastodon_api.post(
        jo, "", tag="tentworks", media=(("image", "Zipper torn off the fly sheet"), ("gifv", None), ("audio", ""))
    )
    post = mastodon_pull(mastodon_api)[status.id]
    assert [(m.kind, m.alt) for m in post.media] == [
        ("image", "Zipper torn off the fly sheet"),
        ("gif", ""),
        ("audio", ""),
    ]
    image = post.media[0]
    assert image.url.startswith(f"{mastodon_api.url}/cache/system/media_attachments/") and image.url.endswith(".jpeg")
    assert image.preview_url.endswith(".jpeg") and "/small/" in image.preview_url


def test_mastodon_card_content_warning_and_sensitive(mastodon_api):
    jo = mastodon_api.add_account("jo")
    card = ("https://tentworks.example/ridge-2p", "Ridge 2P – Tentworks", "A two-person tent for windy ridges.")
    carded = mastodon_api.post(jo, "Look https://tentworks.example/ridge-2p", tag="tentworks", card=card)
    warned = mastodon_api.post(jo, "Cut my hand on the pole", tag="tentworks", spoiler_text="injury, blood")
    marked = mastodon_api.post(jo, "Photo", tag="tentworks", sensitive=True, media=(("image", "a wound"),))
    posts = mastodon_pull(mastodon_api)
    assert posts[carded.id].link_card == LinkCard(*card)
    assert (posts[carded.id].content_warning, posts[carded.id].sensitive) == ("", False)
    assert (posts[warned.id].content_warning, posts[warned.id].sensitive) == ("injury, blood", True)
    assert (posts[marked.id].content_warning, posts[marked.id].sensitive) == ("", True)


def test_mastodon_accepted_quote_names_the_quoted_status(mastodon_api):
    jo = mastodon_api.add_account("jo")
    quoted = mastodon_api.post(jo, "Original", tag="tentworks")
    quoting = mastodon_api.post(jo, "Quoting", tag="tentworks")
    pending = mastodon_api.post(jo, "Quote awaiting approval", tag="tentworks")
    mastodon_api.alter_status(
        quoting, quote={"state": "accepted", "quoted_status": mastodon_api.status_json(quoted)}
    )
    mastodon_api.alter_status(pending, quote={"state": "pending", "quoted_status": None})
    posts = mastodon_pull(mastodon_api)
    assert posts[quoting.id].quoted_id == f"127.0.0.1:{mastodon_api.port}:{quoted.id}"
    assert posts[pending.id].quoted_id == ""


# ----------------------------------------------------------------------
# Bluesky
# ----------------------------------------------------------------------


@pytest.fixture
def bluesky():
    with BlueskyServer() as server:
        yield server


def bluesky_pull(server):
    settings = SourceSettings(
        platform="bluesky",
        mode="mentions",
        target="",
        api_url=server.url,
        allow_local=True,
        credentials={"identifier": server.me.handle, "app_password": server.app_password},
    )
    return posts_of(list(client_for(settings, Transport(allow_local=True)).pull({})))


def test_bluesky_image_only_reply_with_alt_text(bluesky):
    alice = bluesky.add_account("alice.bsky.social", "Alice Brook")
    root = bluesky.add_post(bluesky.me, "Our new Ridge 2P is out!")
    reply = bluesky.add_post(
        alice, "", reply_to=root, images=(("Pole snapped at the joint", 1600, 1200), ("", 800, 600))
    )
    post = bluesky_pull(bluesky)[reply.uri]
    assert post.body_html == "" and post.parent_id == root.uri
    first, second = post.media
    assert first.alt == "Pole snapped at the joint" and first.kind == "image"
    assert first.url.startswith(f"https://cdn.bsky.app/img/feed_fullsize/plain/{alice.did}/")
    assert first.preview_url.startswith(f"https://cdn.bsky.app/img/feed_thumbnail/plain/{alice.did}/")
    assert second.alt == ""


def test_bluesky_video_and_link_card(bluesky):
    alice = bluesky.add_account("alice.bsky.social")
    video = bluesky.add_post(alice, "@tentworks.example pitching in the wind", video=("Tent flapping", 1920, 1080))
    card = ("https://gearshop.example/tents", "Tents – Gear Shop", "Every tent we stock")
    linked = bluesky.add_post(alice, "@tentworks.example in stock here", external=card)
    posts = bluesky_pull(bluesky)
    [clip] = posts[video.uri].media
    assert clip.kind == "video" and clip.alt == "Tent flapping" and clip.url.endswith("/playlist.m3u8")
    assert clip.preview_url.endswith("/thumbnail.jpg")
    assert posts[linked.uri].link_card == LinkCard(*card) and posts[linked.uri].media == ()


def test_bluesky_quote_post_and_quote_with_media_bring_the_quoted_post(bluesky):
    alice = bluesky.add_account("alice.bsky.social")
    bob = bluesky.add_account("bob.bsky.social")
    original = bluesky.add_post(bob, "Ridge 2P after a storm", images=(("Bent pole", 1200, 900),))
    quote = bluesky.add_post(alice, "@tentworks.example same thing here", quote=original)
    with_media = bluesky.add_post(
        alice, "@tentworks.example and mine", quote=original, images=(("My bent pole", 1200, 900),)
    )
    posts = bluesky_pull(bluesky)
    assert posts[quote.uri].quoted_id == original.uri and posts[quote.uri].media == ()
    assert posts[with_media.uri].quoted_id == original.uri
    assert [m.alt for m in posts[with_media.uri].media] == ["My bent pole"]
    quoted = posts[original.uri]
    assert quoted.author_id == bob.did and quoted.thread_key == original.uri
    assert "after a storm" in quoted.body_html and [m.alt for m in quoted.media] == ["Bent pole"]


def test_bluesky_quote_of_a_deleted_post_keeps_its_uri(bluesky):
    alice = bluesky.add_account("alice.bsky.social")
    original = bluesky.add_post(alice, "Soon gone")
    quote = bluesky.add_post(alice, "@tentworks.example see this", quote=original)
    bluesky.delete(original)
    posts = bluesky_pull(bluesky)
    assert posts[quote.uri].quoted_id == original.uri and original.uri not in posts


def test_bluesky_self_and_moderation_labels(bluesky):
    alice = bluesky.add_account("alice.bsky.social")
    labelled = bluesky.add_post(alice, "@tentworks.example after the fall", self_labels=("graphic-media",))
    bluesky.label(labelled, "!warn")
    bluesky.label(labelled, "sexual")
    bluesky.label(labelled, "sexual", negated=True)
    audience = bluesky.add_post(alice, "@tentworks.example members only", self_labels=("!no-unauthenticated",))
    posts = bluesky_pull(bluesky)
    assert posts[labelled.uri].labels == ("graphic-media", "!warn")
    assert posts[audience.uri].labels == ()
