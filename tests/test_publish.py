"""Publishing replies and direct messages through each client, against the
loopback platforms: what reaches the platform (text, reply references,
visibility, recipient), what comes back, and each platform's refusals."""

import pytest

from channels import (
    AuthError,
    ConfigError,
    NotFoundError,
    RefusedError,
    Recipient,
    ReplyTarget,
    SourceSettings,
    Transport,
    UnsupportedError,
    client_for,
    platforms,
)
from fake_platforms.bluesky_api import BlueskyServer, xrpc_error
from fake_platforms.feed_site import FeedSite
from fake_platforms.mastodon_api import MastodonApi
from fake_platforms.x_api import XApi

TOKEN = "s3cret-loopback-token"


def settings(platform, api_url, credentials, mode="mentions", target=""):
    return SourceSettings(
        platform=platform, mode=mode, target=target, api_url=api_url, credentials=credentials, allow_local=True
    )


def connect(source_settings):
    return client_for(source_settings, Transport(allow_local=True, timeout=5))


# -- X ---------------------------------------------------------------------


@pytest.fixture
def x_api():
    with XApi() as server:
        acme = server.add_user("acme", "Acme Outdoor")
        server.connect(acme["id"])
        server.customer = server.add_user("anahiker", "Ana Moreau")
        server.question = server.add_tweet(server.customer["id"], "@acme my order still says pending")
        yield server


def x_client(api, kind="user"):
    return connect(settings("x", f"{api.url}/2", api.credentials(kind)))


def test_x_reply_is_a_tweet_in_reply_to_the_customers_tweet(x_api):
    question = x_api.question
    target = ReplyTarget(question["id"], thread_key=question["conversation_id"])

    published = x_client(x_api).publish("Sorry Ana, we are on it", reply_to=target)

    assert x_api.published == [
        {"kind": "tweet", "text": "Sorry Ana, we are on it", "reply": {"in_reply_to_tweet_id": question["id"]}}
    ]
    tweet = x_api.tweets[published.external_id]
    assert tweet["conversation_id"] == question["conversation_id"] == published.thread_key
    assert published.url == f"https://x.com/i/web/status/{published.external_id}"
    assert published.text == "Sorry Ana, we are on it" and published.posted_at is not None
    (request,) = [r for r in x_api.requests if r.path == "/2/tweets"]
    assert request.method == "POST" and request.headers["authorization"].startswith("OAuth ")


def test_x_direct_message_goes_to_the_participant(x_api):
    customer = x_api.customer
    published = x_client(x_api).send_direct(Recipient(customer["id"], "anahiker"), "Could you DM your order number?")

    assert x_api.published == [
        {"kind": "dm", "participant_id": customer["id"], "text": "Could you DM your order number?"}
    ]
    event = x_api.dm_events[published.external_id]
    assert published.thread_key == event["dm_conversation_id"]
    assert event["sender_id"] == x_api.account


def test_x_publishing_with_an_app_only_bearer_token_says_user_context_is_needed(x_api):
    with pytest.raises(ConfigError, match="only with user-context credentials.*app-only bearer token"):
        x_client(x_api, "bearer").publish("hello")
    assert not x_api.published and not [r for r in x_api.requests if r.path == "/2/tweets"]


def test_x_refuses_duplicate_content_in_its_own_words(x_api):
    client = x_client(x_api)
    client.publish("Thanks for your patience!")
    with pytest.raises(RefusedError, match="You are not allowed to create a Tweet with duplicate content"):
        client.publish("Thanks for your patience!")
    assert len(x_api.published) == 1


def test_x_refuses_a_reply_to_a_deleted_tweet(x_api):
    x_api.delete(x_api.question["id"])
    with pytest.raises(RefusedError, match="deleted or not visible"):
        x_client(x_api).publish("hello", reply_to=ReplyTarget(x_api.question["id"]))


def test_x_revoked_token_asks_to_reconnect(x_api):
    x_api.revoke()
    with pytest.raises(AuthError, match=r"HTTP 401: Unauthorized.*reconnect the source"):
        x_client(x_api).publish("hello")


def test_x_a_recipient_who_accepts_no_direct_message(x_api):
    x_api.closed_dms.add(x_api.customer["id"])
    with pytest.raises(RefusedError, match="You cannot send messages to this user"):
        x_client(x_api).send_direct(Recipient(x_api.customer["id"]), "hi")


# -- Mastodon ----------------------------------------------------------------


@pytest.fixture
def mastodon():
    with MastodonApi(token=TOKEN) as server:
        server.alice = server.add_account("alice", "Alice", domain="fosstodon.org")
        yield server


def mastodon_client(api, token=TOKEN):
    return connect(settings("mastodon", api.url, {"access_token": token} if token else {}))


def key(api, status):
    return f"127.0.0.1:{api.port}:{status.id}"


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private"])
def test_mastodon_reply_mentions_the_author_with_the_threads_visibility(mastodon, visibility):
    question = mastodon.post(mastodon.alice, "is the Ridge tent waterproof?", mention=True, visibility=visibility)
    target = ReplyTarget(key(mastodon, question), thread_key=key(mastodon, question))

    published = mastodon_client(mastodon).publish("yes, 3000 mm", reply_to=target)

    assert mastodon.published == [
        {"status": "@alice@fosstodon.org yes, 3000 mm", "visibility": visibility, "in_reply_to_id": question.id}
    ]
    status = mastodon.statuses[-1]
    assert published.external_id == key(mastodon, status) and published.thread_key == key(mastodon, question)
    assert status.in_reply_to is question and status.mentions == (mastodon.alice,)
    assert published.url.endswith(f"/@tentworks/{status.id}")
    assert published.text == "@alice@fosstodon.org yes, 3000 mm"


def test_mastodon_reply_keeps_a_mention_already_written_and_an_explicit_visibility(mastodon):
    question = mastodon.post(mastodon.alice, "hi", mention=True)
    target = ReplyTarget(key(mastodon, question))
    mastodon_client(mastodon).publish("thanks @alice@fosstodon.org!", reply_to=target, visibility="unlisted")
    assert mastodon.published[0]["status"] == "thanks @alice@fosstodon.org!"
    assert mastodon.published[0]["visibility"] == "unlisted"


def test_mastodon_direct_message_is_a_direct_status_threaded_by_its_conversation(mastodon):
    published = mastodon_client(mastodon).send_direct(
        Recipient("https://fosstodon.org/users/alice", "alice@fosstodon.org"), "please send your order number"
    )
    assert mastodon.published == [
        {"status": "@alice@fosstodon.org please send your order number", "visibility": "direct"}
    ]
    status = mastodon.statuses[-1]
    assert status.visibility == "direct" and status.mentions == (mastodon.alice,)
    conversation = next(c for c in mastodon.conversations.values() if c.last_status is status)
    assert published.thread_key == f"127.0.0.1:{mastodon.port}:conversation:{conversation.id}"


def test_mastodon_reply_in_a_direct_conversation_stays_direct(mastodon):
    dm = mastodon.direct(mastodon.alice, "my tent leaks")
    thread = f"127.0.0.1:{mastodon.port}:conversation:400000"
    published = mastodon_client(mastodon).publish("sorry!", reply_to=ReplyTarget(key(mastodon, dm), thread_key=thread))
    assert mastodon.published[0]["visibility"] == "direct"
    assert published.thread_key == thread


def test_mastodon_refuses_a_status_beyond_500_characters(mastodon):
    with pytest.raises(RefusedError, match="Validation failed: Text character limit of 500 exceeded"):
        mastodon_client(mastodon).publish("x" * 501)
    assert not mastodon.published


def test_mastodon_counts_a_link_as_23_characters(mastodon):
    mastodon_client(mastodon).publish("x" * 470 + " https://example.com/" + "a" * 100)
    assert len(mastodon.published) == 1


def test_mastodon_revoked_token_says_so(mastodon):
    mastodon.revoke()
    with pytest.raises(AuthError, match="The access token was revoked.*reconnect"):
        mastodon_client(mastodon).publish("hello")


def test_mastodon_without_a_token_asks_for_one(mastodon):
    with pytest.raises(AuthError, match="needs credentials"):
        mastodon_client(mastodon, token=None).publish("hello")
    assert not mastodon.requests


def test_mastodon_reply_to_a_post_of_another_instance_is_refused_before_any_call(mastodon):
    with pytest.raises(ConfigError, match="was not pulled from"):
        mastodon_client(mastodon).publish("hi", reply_to=ReplyTarget("mastodon.social:1234"))
    assert not mastodon.requests


def test_mastodon_reply_to_a_deleted_status(mastodon):
    with pytest.raises(NotFoundError):
        mastodon_client(mastodon).publish("hi", reply_to=ReplyTarget(f"127.0.0.1:{mastodon.port}:999"))


# -- Bluesky -------------------------------------------------------------------


@pytest.fixture
def bluesky():
    with BlueskyServer() as server:
        server.alice = server.add_account("alice.bsky.social", "Alice Brook")
        server.root = server.add_post(server.me, "Our new Ridge 2P is out!")
        server.question = server.add_post(server.alice, "Does it fit two?", reply_to=server.root)
        yield server


def bluesky_client(server):
    return connect(
        settings("bluesky", server.url, {"identifier": server.me.handle, "app_password": server.app_password})
    )


def test_bluesky_reply_names_root_and_parent_looked_up_when_not_stored(bluesky):
    target = ReplyTarget(bluesky.question.uri, thread_key=bluesky.root.uri)

    published = bluesky_client(bluesky).publish("Yes, with room for bags: https://tentworks.example/ridge", target)

    (record,) = bluesky.published
    assert record["reply"] == {
        "root": {"uri": bluesky.root.uri, "cid": bluesky.root.cid},
        "parent": {"uri": bluesky.question.uri, "cid": bluesky.question.cid},
    }
    assert record["text"] == "Yes, with room for bags: https://tentworks.example/ridge"
    assert record["facets"][0]["features"][0]["uri"] == "https://tentworks.example/ridge"
    post = bluesky.posts[published.external_id]
    assert post.parent is bluesky.question and post.root is bluesky.root and post.author is bluesky.me
    assert published.thread_key == bluesky.root.uri and published.cid == post.cid
    assert published.url == f"https://bsky.app/profile/{bluesky.me.did}/post/{post.uri.rsplit('/', 1)[-1]}"
    assert len(bluesky.calls("app.bsky.feed.getPosts")) == 1


def test_bluesky_reply_with_stored_cids_asks_nothing_more(bluesky):
    target = ReplyTarget(
        bluesky.question.uri, thread_key=bluesky.root.uri, cid=bluesky.question.cid, root_cid=bluesky.root.cid
    )
    bluesky_client(bluesky).publish("yes", target)
    assert bluesky.published[0]["reply"]["root"] == {"uri": bluesky.root.uri, "cid": bluesky.root.cid}
    assert not bluesky.calls("app.bsky.feed.getPosts")


def test_bluesky_refuses_more_than_300_graphemes_before_any_call(bluesky):
    client = bluesky_client(bluesky)
    client.publish("👍🏽" * 300)  # 300 graphemes, 2400 bytes
    assert len(bluesky.published) == 1
    with pytest.raises(RefusedError, match="at most 300 characters; this one has 301"):
        client.publish("a" * 301)
    assert len(bluesky.calls("com.atproto.repo.createRecord")) == 1


def test_bluesky_validation_error_is_quoted(bluesky):
    message = "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    bluesky.script("com.atproto.repo.createRecord", xrpc_error(400, "InvalidRequest", message))
    with pytest.raises(RefusedError, match=f"Bluesky refused the post: InvalidRequest: {message}"):
        bluesky_client(bluesky).publish("hello")
    assert not bluesky.published


def test_bluesky_revoked_app_password_says_so(bluesky):
    client = connect(
        settings(
            "bluesky",
            bluesky.url,
            {"identifier": bluesky.me.handle, "app_password": bluesky.app_password, **bluesky.issue_session()},
        )
    )
    bluesky.revoke_app_password()
    with pytest.raises(AuthError, match="refused the identifier or app password.*new app password"):
        client.publish("hello")
    assert not bluesky.published


def test_bluesky_reply_to_a_deleted_post(bluesky):
    bluesky.delete(bluesky.question)
    with pytest.raises(NotFoundError, match="no longer exists"):
        bluesky_client(bluesky).publish("hi", ReplyTarget(bluesky.question.uri, thread_key=bluesky.root.uri))


def test_bluesky_has_no_direct_messages(bluesky):
    client = bluesky_client(bluesky)
    assert not client.info.direct_messages
    with pytest.raises(UnsupportedError, match="separate chat service"):
        client.send_direct(Recipient(bluesky.alice.did, bluesky.alice.handle), "hi")
    assert not bluesky.requests


# -- feeds and what platforms declare -----------------------------------------------


def test_feeds_have_no_reply_api():
    with FeedSite() as site:
        client = connect(settings("feed", "", {}, mode="feed", target=f"{site.url}/feed.xml"))
        assert not client.info.publishes and not client.info.direct_messages
        with pytest.raises(UnsupportedError, match="no API to publish"):
            client.publish("hi")
        assert not site.requests


def test_platforms_declare_what_they_publish():
    declared = {info.name: (info.publishes, info.direct_messages, info.max_length) for info in platforms()}
    assert declared == {
        "feed": (False, False, 0),
        "x": (True, True, 280),
        "mastodon": (True, True, 500),
        "bluesky": (True, False, 300),
    }


def test_mastodon_publishes_once_what_is_sent_again_with_the_same_idempotency_key(mastodon):
    client = mastodon_client(mastodon)
    first = client.publish("hello again", idempotency_key="social-crm-db-7")
    second = client.publish("hello again", idempotency_key="social-crm-db-7")
    assert first == second
    assert len(mastodon.published) == 1
    sent = [r for r in mastodon.requests if r.path == "/api/v1/statuses"]
    assert [r.headers["idempotency-key"] for r in sent] == ["social-crm-db-7", "social-crm-db-7"]
