"""The X, Mastodon and Bluesky clients against answers shaped as the real
APIs document them (``fixtures/api``, see its README): pages shorter than
asked with a ``Link`` to more, malformed items among good ones, direct
conversations, and the platforms' own error bodies."""

import json

import pytest
from channels import AuthError, RateLimitedError, SourceSettings, UnavailableError, client_for
from channels.transport import ANSWER_TEXT_MAX
from fake_platforms.bluesky_api import BlueskyServer
from fake_platforms.server import Reply
from recorded_api import RecordedApi, recorded

TAG = "/api/v1/timelines/tag/tentworks"
CONVERSATIONS = "/api/v1/conversations"
NOTIFICATIONS = "/api/v1/notifications"
VERIFY = "/api/v1/accounts/verify_credentials"
MENTIONS = "/2/users/2244994945/mentions"
TOKEN = "recorded-access-token-4f9d2c7a1b"


@pytest.fixture
def api():
    with RecordedApi() as server:
        yield server


def mastodon(api, mode="hashtag", target="tentworks", token=TOKEN, host="127.0.0.1", **options):
    settings = SourceSettings(
        platform="mastodon",
        mode=mode,
        target=target,
        api_url=f"http://{host}:{api.port}",
        credentials={"access_token": token} if token else {},
        allow_local=True,
        **options,
    )
    return client_for(settings)


def x(api, mode="mentions", credentials=None, **options):
    settings = SourceSettings(
        platform="x",
        mode=mode,
        target="2244994945",
        api_url=f"{api.url}/2",
        credentials=credentials or {"bearer_token": "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0uSeid"},
        allow_local=True,
        **options,
    )
    return client_for(settings)


def ids(name):
    """The status ids of a recorded page, as sent (newest first)."""
    return [item["id"] for item in json.loads(recorded(name).body)]


def posts_of(batches):
    return {post.external_id: post for batch in batches for post in batch.posts}


# ----------------------------------------------------------------------
# Mastodon: pages shorter than asked
# ----------------------------------------------------------------------


def test_mastodon_first_pull_follows_the_next_link_past_a_short_page(api):
    api.answer(TAG, "mastodon/tag_timeline_page_1", "mastodon/tag_timeline_page_2", "mastodon/empty_page")
    batches = list(mastodon(api, token=None, max_items=30).pull({}))
    first, second = ids("mastodon/tag_timeline_page_1"), ids("mastodon/tag_timeline_page_2")
    # asked for 30, the instance answers 10 a page: the link is followed until an empty page
    assert api.asked(TAG) == [
        {"limit": "30"},
        {"max_id": first[-1], "limit": "20"},
        {"max_id": second[-1], "limit": "10"},
    ]
    assert set(posts_of(batches)) == {f"127.0.0.1:{api.port}:{status_id}" for status_id in first + second}
    assert batches[-1].cursor == {"since_id": first[0]}


def test_mastodon_next_pull_follows_the_prev_link_past_a_short_page(api):
    since = ids("mastodon/tag_timeline_page_1")[0]
    api.answer(TAG, "mastodon/tag_timeline_newer_1", "mastodon/tag_timeline_newer_2", "mastodon/empty_page")
    batches = list(mastodon(api, token=None).pull({"since_id": since}))
    newer_1, newer_2 = ids("mastodon/tag_timeline_newer_1"), ids("mastodon/tag_timeline_newer_2")
    assert api.asked(TAG) == [
        {"min_id": since, "limit": "40"},
        {"min_id": newer_1[0], "limit": "40"},
        {"min_id": newer_2[0], "limit": "40"},
    ]
    assert [len(batch.posts) for batch in batches] == [5, 5]
    assert [batch.cursor["since_id"] for batch in batches] == [newer_1[0], newer_2[0]]


# ----------------------------------------------------------------------
# Mastodon: direct conversations, handles, bad items
# ----------------------------------------------------------------------


def test_mastodon_direct_messages_thread_by_their_conversation(api):
    api.answer(VERIFY, "mastodon/verify_credentials")
    api.answer(CONVERSATIONS, "mastodon/conversations", "mastodon/empty_page")
    # the reply's parent is out of reach: its context is gone
    api.answer("/api/v1/statuses/103270221826048975/context", "mastodon/record_not_found")
    batches = list(mastodon(api, mode="dm", target="", host="localhost").pull({}))
    instance = f"localhost:{api.port}"
    posts = posts_of(batches)
    reply, new = posts[f"{instance}:103270221826048975"], posts[f"{instance}:103270231826048975"]
    assert reply.thread_key == f"{instance}:conversation:418450"
    assert new.thread_key == f"{instance}:conversation:418451"
    # the parent is named for when it arrives; the thread does not wait for it
    assert reply.parent_id == f"{instance}:103270201826048975"
    assert (reply.direction, new.direction, reply.visibility) == ("outbound", "inbound", "private")
    authors = {author.handle: author for batch in batches for author in batch.authors}
    # the local account's handle keeps the instance's port; an empty display name falls back to the username
    assert set(authors) == {f"admin@localhost:{api.port}", f"tentworks@localhost:{api.port}", "ana@fosstodon.org"}
    assert authors[f"admin@localhost:{api.port}"].name == "admin"
    # conversations page by their last status: the Link's max_id is followed
    assert api.asked(CONVERSATIONS)[1] == {"max_id": "103270221826048975", "limit": "40"}


def test_mastodon_a_mention_without_its_status_is_skipped_and_the_page_kept(api):
    api.answer(VERIFY, "mastodon/verify_credentials")
    api.answer(NOTIFICATIONS, "mastodon/mention_notifications", "mastodon/empty_page")
    batches = list(mastodon(api, mode="mentions", target="").pull({}))
    assert set(posts_of(batches)) == {
        f"127.0.0.1:{api.port}:103186126728896492",
        f"127.0.0.1:{api.port}:103186046024624209",
    }
    assert [reason for batch in batches for reason in batch.skipped] == [
        f"notification 34975800: http://127.0.0.1:{api.port}{NOTIFICATIONS} "
        "sent mention notification 34975800 without 'status'"
    ]
    # the cursor comes from Mastodon's Link header, as the docs show it
    assert batches[-1].cursor["since_id"] == "34975861"


# ----------------------------------------------------------------------
# X: partial errors and bad items
# ----------------------------------------------------------------------


def test_x_a_tweet_without_author_is_skipped_and_partial_errors_keep_the_page(api):
    api.answer(MENTIONS, "x/mentions_page_1", "x/mentions_page_2")
    batches = list(x(api).pull({}))
    assert set(posts_of(batches)) == {
        "1375152598945312768",
        "1375152598945312766",
        "1375152598945312700",
        "1375152449594523649",  # the tweet replied to, from includes
    }
    assert [reason for batch in batches for reason in batch.skipped] == ["tweet 1375152598945312767: no 'author_id'"]
    assert api.asked(MENTIONS)[1]["pagination_token"] == "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
    assert batches[-1].cursor == {"since_id": "1375152598945312768", "user_id": "2244994945"}


def test_x_a_direct_message_without_sender_is_skipped_and_the_others_kept(api):
    api.answer("/2/dm_events", "x/dm_events")
    credentials = {
        "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
        "consumer_secret": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        "access_token": "2244994945-6kjKJmPpYAzbvLUtnWHTfH3Kd8tKWZXnkZ5ShRY",
        "access_token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
    }
    batches = list(x(api, mode="dm", credentials=credentials).pull({}))
    posts = posts_of(batches)
    assert set(posts) == {"1582838223669878788", "1582838223669878786"}
    assert posts["1582838223669878786"].direction == "outbound"
    assert {post.thread_key for post in posts.values()} == {"1582103724607971328-2244994945"}
    assert [reason for batch in batches for reason in batch.skipped] == [
        "direct message 1582838223669878787: no 'sender_id'"
    ]


# ----------------------------------------------------------------------
# The platforms' own error texts
# ----------------------------------------------------------------------


def test_mastodon_error_text_reaches_the_message_without_the_token(api):
    api.answer(VERIFY, "mastodon/invalid_token")
    with pytest.raises(AuthError) as raised:
        list(mastodon(api, mode="mentions", target="").pull({}))
    assert raised.value.message == (
        f"http://127.0.0.1:{api.port}{VERIFY} refused our credentials "
        "(HTTP 401: The access token is invalid); reconnect the source"
    )


def test_mastodon_401_to_a_source_without_credentials_says_they_are_missing(api):
    api.answer(TAG, "mastodon/authenticated_user_required")
    with pytest.raises(AuthError) as raised:
        list(mastodon(api, token=None).pull({}))
    assert raised.value.message == (
        f"http://127.0.0.1:{api.port}{TAG} asks for credentials "
        "(HTTP 401: This API requires an authenticated user); "
        "the Mastodon source needs credentials: an administrator must enter them"
    )


def test_secrets_and_links_in_an_error_text_are_masked(api):
    echoed = {"error": f"The access token {TOKEN} is invalid, see https://mastodon.example/oauth?access_token=abc"}
    api.queued[VERIFY] = [Reply(401, json.dumps(echoed))]
    with pytest.raises(AuthError) as raised:
        list(mastodon(api, mode="mentions", target="").pull({}))
    assert "(HTTP 401: The access token *** is invalid, see https://mastodon.example/oauth?access_token=***)" in str(
        raised.value
    )
    assert TOKEN not in str(raised.value) and "abc" not in str(raised.value)


def test_a_short_token_we_sent_is_masked_wherever_the_platform_echoes_it(api):
    echoed = {"error": "Token 'tok3n' (Bearer tok3n) is invalid"}
    api.queued[VERIFY] = [Reply(401, json.dumps(echoed))]
    with pytest.raises(AuthError) as raised:
        list(mastodon(api, mode="mentions", target="", token="tok3n").pull({}))
    assert "(HTTP 401: Token '***' (Bearer ***) is invalid)" in raised.value.message


@pytest.mark.parametrize(
    "fixture, error, said",
    [
        ("x/unauthorized", AuthError, "refused our credentials (HTTP 401: Unauthorized); reconnect the source"),
        ("x/too_many_requests", RateLimitedError, "is rate limited (HTTP 429: Too Many Requests)"),
    ],
)
def test_x_problem_details_reach_the_message(api, fixture, error, said):
    api.answer(MENTIONS, fixture)
    with pytest.raises(error) as raised:
        list(x(api).pull({}))
    assert f"http://127.0.0.1:{api.port}{MENTIONS} {said}" == raised.value.message


def test_a_long_problem_detail_is_quoted_capped(api):
    api.answer(MENTIONS, "x/client_forbidden")
    with pytest.raises(AuthError) as raised:
        list(x(api).pull({}))
    said = raised.value.message.split("(HTTP 403: ", 1)[1].rsplit("); reconnect the source", 1)[0]
    assert said.startswith("Client Forbidden: When authenticating requests to the Twitter API v2 endpoints")
    assert len(said) == ANSWER_TEXT_MAX and said.endswith("…")


@pytest.mark.parametrize(
    "answer, error, said",
    [
        ("bluesky/auth_missing", AuthError, "(AuthMissing: Authentication Required); reconnect the source"),
        ("bluesky/upstream_failure", UnavailableError, "is failing (HTTP 502: UpstreamFailure: Upstream Failure)"),
    ],
)
def test_bluesky_xrpc_message_reaches_the_message(answer, error, said):
    with BlueskyServer() as server:
        server.script("app.bsky.notification.listNotifications", recorded(answer))
        settings = SourceSettings(
            platform="bluesky",
            mode="mentions",
            target="",
            api_url=server.url,
            credentials={"identifier": server.me.handle, "app_password": server.app_password},
            allow_local=True,
        )
        with pytest.raises(error) as raised:
            list(client_for(settings).pull(None))
    assert said in raised.value.message
