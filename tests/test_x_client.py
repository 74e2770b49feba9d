"""The X client through the real python-twitter-v2 and our transport against
a local X API v2: bearer and OAuth 1.0a, mentions, search and direct
messages, token paging and since_id, resume, threads, authors, metered reads,
rate limits, and a clear error for each kind of failure."""

import json
import logging

import pytest
from freezegun import freeze_time

from channels import (
    Author,
    AuthError,
    ConfigError,
    InvalidDataError,
    NotFoundError,
    RateLimitedError,
    SourceSettings,
    Transport,
    UnavailableError,
    client_for,
)
from channels import x  # noqa: F401  registers the "x" client
from fake_platforms.server import Reply
from fake_platforms.x_api import XApi, invalid_request

MENTIONS_PATH = "/2/users/{}/mentions"


@pytest.fixture
def api():
    """60 tweets in 8 threads by 12 accounts and 12 direct messages, in
    pages of at most 10."""
    with XApi.generate(posts=60, authors=12, threads=8, dms=12, seed=3, page_cap=10) as server:
        yield server


def client(api, mode="mentions", target="@acme", kind="bearer", credentials=None, transport=None, **options):
    settings = SourceSettings(
        platform="x",
        mode=mode,
        target=target,
        api_url=f"{api.url}/2",
        allow_local=True,
        credentials=api.credentials(kind) if credentials is None else credentials,
        **options,
    )
    return client_for(settings, transport)


def pull(api, cursor=None, **options):
    return list(client(api, **options).pull(cursor or {}))


def post_ids(batches):
    return [post.external_id for batch in batches for post in batch.posts]


def served(api, path):
    """The requests the server got for ``path``."""
    return [request for request in api.requests if request.path == path]


def mention_ids(api):
    return {tweet["id"] for tweet in api.mentions_of(api.account)}


def test_bearer_mentions_resolve_the_username_once_and_read_every_mention(api):
    batches = pull(api, max_items=1000)
    path = MENTIONS_PATH.format(api.account)

    assert api.requests[0].path == "/2/users/by/username/acme"
    assert all(r.headers["authorization"] == f"Bearer {api.bearer_token}" for r in api.requests)
    assert mention_ids(api) <= set(post_ids(batches))
    newest = max(mention_ids(api), key=x.id_key)
    assert batches[-1].cursor == {"since_id": newest, "user_id": api.account}

    api.requests.clear()
    api.add_tweet(api.account, "Restock on Monday")  # by the account: no mention
    fresh = api.add_tweet(list(api.users)[3], "@acme is the stove back?")
    again = pull(api, batches[-1].cursor, max_items=1000)

    assert [r.path for r in api.requests] == [path]  # the user id came from the cursor
    assert api.requests[0].param("since_id") == newest
    assert post_ids(again) == [fresh["id"]]
    assert again[-1].cursor == {"since_id": fresh["id"], "user_id": api.account}


def test_pages_follow_next_token_and_keep_the_old_since_id_until_the_last(api):
    batches = pull(api, max_items=1000)
    requests = served(api, MENTIONS_PATH.format(api.account))

    assert len(batches) == len(requests) == 6  # 55 mentions, pages of 10
    assert requests[0].param("pagination_token") is None
    for batch, following in zip(batches, requests[1:]):
        assert batch.cursor["since_id"] is None
        assert batch.cursor["next_token"] == following.param("pagination_token")
    first_page_newest = max(batches[0].posts, key=lambda p: x.id_key(p.external_id)).external_id
    assert {b.cursor.get("newest_id") for b in batches[:-1]} == {first_page_newest}
    assert "next_token" not in batches[-1].cursor


def test_a_pull_resumed_after_a_crash_reads_no_page_twice_and_loses_none(api):
    first_page = next(iter(client(api, max_items=1000).pull({})))
    api.requests.clear()
    resumed = pull(api, first_page.cursor, max_items=1000)

    page_one = {t["id"] for t in api.mentions_of(api.account)[:10]}
    assert api.requests[0].param("pagination_token") == first_page.cursor["next_token"]
    assert not page_one & set(post_ids(resumed))
    assert page_one | set(post_ids(resumed)) >= mention_ids(api)
    assert first_page.reads + sum(b.reads for b in resumed) == len(mention_ids(api))
    assert resumed[-1].cursor["since_id"] == first_page.cursor["newest_id"]


def test_an_expired_paging_token_pages_again_from_since_id(api, caplog):
    oldest = min(mention_ids(api), key=x.id_key)
    cursor = {"since_id": oldest, "next_token": "expired-token", "newest_id": oldest, "user_id": api.account}
    with caplog.at_level(logging.WARNING, logger="channels.x"):
        batches = pull(api, cursor, max_items=1000)

    requests = served(api, MENTIONS_PATH.format(api.account))
    assert requests[0].param("pagination_token") == "expired-token"
    assert requests[1].param("pagination_token") is None and requests[1].param("since_id") == oldest
    assert set(post_ids(batches)) >= mention_ids(api) - {oldest}
    assert "refused the saved cursor (pagination_token)" in caplog.text


def test_a_since_id_beyond_the_week_of_recent_search_searches_again_without_it(api):
    api.fail_next(
        Reply(
            400,
            json.dumps(
                invalid_request(
                    "since_id",
                    "1",
                    "Invalid 'since_id':'1'. 'since_id' must be a tweet id created after 2026-11-13T09:00Z.",
                )
            ),
        )
    )
    batches = pull(api, {"since_id": "1"}, mode="search", target="acme", max_items=1000)

    requests = served(api, "/2/tweets/search/recent")
    assert requests[0].param("since_id") == "1" and requests[1].param("since_id") is None
    assert set(post_ids(batches)) == set(api.tweets)
    assert batches[-1].cursor == {"since_id": max(api.tweets, key=x.id_key)}


def test_user_context_signs_with_oauth1_and_marks_the_accounts_own_posts_outbound(api):
    batches = pull(api, target="", kind="user", max_items=1000)

    assert api.requests[0].path == MENTIONS_PATH.format(api.account)  # the account came from the token
    header = api.requests[0].headers["authorization"]
    assert header.startswith("OAuth ") and f'oauth_consumer_key="{api.consumer_key}"' in header
    assert "oauth_signature=" in header and api.consumer_secret not in header
    own = {p.external_id for b in batches for p in b.posts if p.author_id == api.account}
    assert own and own.isdisjoint(mention_ids(api))  # the account's posts came as referenced tweets
    assert {p.direction for b in batches for p in b.posts if p.external_id in own} == {"outbound"}
    assert {p.direction for b in batches for p in b.posts if p.external_id not in own} == {"inbound"}


def test_a_wrong_oauth1_secret_fails_the_signature_and_asks_to_reconnect(api):
    credentials = {**api.credentials("user"), "consumer_secret": "not-the-secret"}
    with pytest.raises(AuthError, match="reconnect") as error:
        pull(api, kind="user", credentials=credentials)
    assert "not-the-secret" not in str(error.value) and api.access_token not in str(error.value)


def test_search_pages_with_next_token_and_reads_text_as_escaped_html(api):
    batches = pull(api, mode="search", target="stove & pot", max_items=1000)
    requests = served(api, "/2/tweets/search/recent")
    matching = [t for t in api.tweets.values() if "stove &amp; pot" in t["text"]]

    assert {r.param("query") for r in requests} == {"stove & pot"}
    assert [r.param("next_token") for r in requests[1:]] == [b.cursor["next_token"] for b in batches[:-1]]
    assert {t["id"] for t in matching} <= set(post_ids(batches))
    post = next(p for b in batches for p in b.posts if p.external_id == matching[0]["id"])
    assert "<p>" in post.body_html and "stove &amp; pot" in post.body_html


def test_angle_brackets_in_a_tweet_stay_text(api):
    author = list(api.users)[2]
    tweet = api.add_tweet(author, "@acme my order says <script>alert(1)</script> & more")
    batches = pull(api, max_items=10)
    post = next(p for b in batches for p in b.posts if p.external_id == tweet["id"])
    assert post.body_html == "<p>@acme my order says &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</p>"


def test_replies_join_their_conversation_and_bring_their_parent(api):
    posts = {p.external_id: p for b in pull(api, mode="search", target="acme", max_items=1000) for p in b.posts}

    for tweet in api.tweets.values():
        post = posts[tweet["id"]]
        assert post.thread_key == tweet["conversation_id"]
        parent = next((r["id"] for r in tweet.get("referenced_tweets", ()) if r["type"] == "replied_to"), "")
        assert post.parent_id == parent
        assert not parent or posts[parent].thread_key == post.thread_key
    assert len({p.thread_key for p in posts.values()}) == 8
    reply = next(p for p in posts.values() if p.parent_id)
    tweet = api.tweets[reply.external_id]
    assert (reply.url, reply.language, reply.like_count) == (
        f"https://x.com/{api.users[tweet['author_id']]['username']}/status/{reply.external_id}",
        tweet["lang"],
        tweet["public_metrics"]["like_count"],
    )
    assert reply.posted_at.isoformat(timespec="milliseconds") + "Z" == tweet["created_at"]


def test_a_deleted_parent_is_an_ignored_partial_error_and_the_reply_keeps_its_parent_id(api):
    reply = next(t for t in api.mentions_of(api.account) if t.get("in_reply_to_user_id"))
    parent = reply["referenced_tweets"][0]["id"]
    api.delete(parent)
    posts = {p.external_id: p for b in pull(api, max_items=1000) for p in b.posts}

    assert posts[reply["id"]].parent_id == parent and parent not in posts


def test_authors_carry_their_profile_and_every_post_has_its_author(api):
    batches = pull(api, max_items=1000)
    authors = {a.external_id: a for b in batches for a in b.authors}
    user = api.users[next(p.author_id for p in batches[0].posts)]

    assert authors[user["id"]] == Author(
        external_id=user["id"],
        handle=user["username"],
        name=user["name"],
        profile_url=f"https://x.com/{user['username']}",
        avatar_url=user["profile_image_url"],
        bio=user["description"],
        followers=user["public_metrics"]["followers_count"],
    )
    for batch in batches:
        assert {p.author_id for p in batch.posts} <= {a.external_id for a in batch.authors}


def test_direct_messages_are_private_threads_read_once(api):
    batches = pull(api, mode="dm", target="", kind="user")
    posts = [p for b in batches for p in b.posts]

    assert {p.external_id for p in posts} == set(api.dm_events)
    for post in posts:
        event = api.dm_events[post.external_id]
        assert (post.visibility, post.thread_key) == ("private", event["dm_conversation_id"])
        assert post.direction == ("outbound" if event["sender_id"] == api.account else "inbound")
    for batch in batches:  # each page oldest first
        assert [p.external_id for p in batch.posts] == sorted((p.external_id for p in batch.posts), key=x.id_key)

    person = list(api.users)[1]
    fresh = api.add_dm(person, api.account, "Is the return label in the box?")
    api.requests.clear()
    again = pull(api, batches[-1].cursor, mode="dm", target="", kind="user")
    assert post_ids(again) == [fresh["id"]]
    assert len(api.requests) == 1  # the first page reached the message already read
    assert again[-1].cursor == {"since_id": fresh["id"]}


def test_direct_messages_need_user_context(api):
    with pytest.raises(ConfigError, match="user-context credentials"):
        pull(api, mode="dm", target="")
    assert not api.requests


def test_each_page_reports_the_posts_x_bills(api):
    batches = pull(api, max_items=1000)
    assert sum(b.reads for b in batches) == len(mention_ids(api))
    assert [b.reads for b in batches] == [10, 10, 10, 10, 10, 5]


def test_the_read_budget_caps_what_a_pull_asks_for_and_ends_it(api):
    batches = pull(api, max_items=1000, read_budget=27)
    sizes = [int(r.param("max_results")) for r in served(api, MENTIONS_PATH.format(api.account))]

    assert sizes == [27, 17, 7]  # the last page asks for what the budget has left
    assert sum(b.reads for b in batches) == 27
    assert batches[-1].cursor["next_token"]  # next month resumes there


@pytest.mark.parametrize("mode, target, budget", [("mentions", "@acme", 0), ("search", "acme", 9)])
def test_a_spent_read_budget_is_rate_limited_until_next_month(api, mode, target, budget):
    with pytest.raises(RateLimitedError, match="monthly X read budget is spent") as error:
        pull(api, mode=mode, target=target, read_budget=budget)
    assert error.value.retry_after is None
    assert not api.requests


def test_max_items_caps_one_pull_and_the_next_resumes(api):
    batches = pull(api, max_items=20)
    assert [int(r.param("max_results")) for r in served(api, MENTIONS_PATH.format(api.account))] == [20, 10]
    assert batches[-1].cursor["next_token"] and len(post_ids(batches)) >= 20


@pytest.mark.parametrize("window", [60, 3600])
def test_a_spent_rate_limit_waits_until_the_reset_x_sends(window):
    """X's reset, not the client's 15-minute fallback, sets the wait."""
    with freeze_time("2026-11-23 10:00:00"), XApi.generate(
        posts=60, authors=12, threads=8, seed=3, page_cap=10, rate_limit=2, window=window
    ) as limited:
        batches = pull(limited, target=limited.account, max_items=1000)
        with pytest.raises(RateLimitedError) as error:
            pull(limited, batches[-1].cursor, target=limited.account, max_items=1000)
    assert [batch.wait_seconds for batch in batches] == [None, window]
    assert error.value.retry_after == window


def test_a_spent_rate_limit_stops_the_pull_and_429_names_the_wait():
    with XApi.generate(posts=60, authors=12, threads=8, seed=3, page_cap=10, rate_limit=2) as limited:
        batches = pull(limited, target=limited.account, max_items=1000)
        assert batches[0].wait_seconds is None
        assert 890 <= batches[-1].wait_seconds <= 900 and len(batches) == 2
        assert batches[-1].cursor["next_token"]

        with pytest.raises(RateLimitedError) as error:
            pull(limited, batches[-1].cursor, target=limited.account)
        assert 890 <= error.value.retry_after <= 900


def test_a_revoked_token_asks_to_reconnect_without_showing_it(api):
    api.revoke()
    with pytest.raises(AuthError, match="reconnect") as error:
        pull(api)
    assert api.bearer_token not in str(error.value)


def test_an_outage_mid_paging_keeps_the_pages_already_stored(api):
    pages = client(api, max_items=1000).pull({})
    first = next(pages)
    api.fail_next(Reply(503, "upstream connect error"))
    with pytest.raises(UnavailableError, match="503"):
        next(pages)
    resumed = pull(api, first.cursor, max_items=1000)
    assert mention_ids(api) <= set(post_ids([first, *resumed]))


def test_a_slow_x_times_out(api):
    api.delay = 1.0
    with pytest.raises(UnavailableError, match="did not answer"):
        pull(api, transport=Transport(allow_local=True, timeout=0.3))


def test_malformed_json_is_invalid_data(api):
    api.fail_next(Reply(200, '{"data": [{"id": "1"', headers={"Content-Type": "application/json"}))
    with pytest.raises(InvalidDataError, match="malformed JSON"):
        pull(api)


def test_x_explains_a_refused_query(api):
    api.fail_next(
        Reply(
            400,
            json.dumps(
                invalid_request(
                    "query", "((", "There were errors processing your request: Unbalanced parentheses (at position 1)"
                )
            ),
        )
    )
    with pytest.raises(InvalidDataError, match="Unbalanced parentheses"):
        pull(api, mode="search", target="((")


def test_an_unknown_account_is_not_found(api):
    with pytest.raises(NotFoundError, match="nobody"):
        pull(api, target="@nobody")


def drop(field, where="data"):
    """A ``rewrite`` that removes ``field`` from the first tweet of each page."""

    def rewrite(payload):
        items = payload.get("includes", {}).get("tweets") if where == "includes" else payload.get("data")
        if items:
            items[0].pop(field, None)
        return payload

    return rewrite


@pytest.mark.parametrize("field, where", [("id", "data"), ("author_id", "data"), ("id", "includes")])
def test_a_tweet_without_a_required_field_is_skipped_and_the_rest_kept(api, field, where):
    api.rewrite = drop(field, where)
    batches = pull(api, target=api.account, max_items=1000)
    mentions = {tweet["id"] for tweet in api.mentions_of(api.account)}
    skipped = [reason for batch in batches for reason in batch.skipped]
    if where == "includes":  # a referenced tweet is context: dropped quietly, every mention kept
        assert mentions <= set(post_ids(batches)) and not skipped
        return
    assert len(skipped) == len(batches) and all(f"no '{field}'" in reason for reason in skipped)
    lost = mentions - set(post_ids(batches))
    assert 0 < len(lost) <= len(batches), "at most one tweet lost per page (it may come back as a reference)"
    assert sum(batch.reads for batch in batches) == len(mentions), "every read counted"


def test_optional_fields_missing_fall_back_to_defaults(api):
    def strip(payload):
        for tweet in payload.get("data", ()):
            for field in ("conversation_id", "created_at", "public_metrics", "lang", "referenced_tweets"):
                tweet.pop(field, None)
        payload.pop("includes", None)
        return payload

    api.rewrite = strip
    post = pull(api, target=api.account, max_items=5)[0].posts[-1]

    assert (post.thread_key, post.posted_at, post.like_count, post.language, post.parent_id) == (
        post.external_id,
        None,
        0,
        "",
        "",
    )
    assert post.url == f"https://x.com/i/web/status/{post.external_id}"


@pytest.mark.parametrize(
    "credentials, message",
    [
        ({}, "missing: consumer_key, consumer_secret, access_token, access_token_secret"),
        ({"consumer_key": "k", "consumer_secret": "s"}, "missing: access_token, access_token_secret"),
        (
            {"consumer_key": "k", "consumer_secret": "s", "access_token": "no-dash-here-", "access_token_secret": "t"},
            "should look like",
        ),
    ],
)
def test_incomplete_credentials_are_a_config_error(api, credentials, message):
    with pytest.raises(ConfigError, match=message) as error:
        pull(api, credentials=credentials)
    assert "no-dash-here" not in str(error.value)


def test_the_benchmark_dataset_is_deterministic_and_complete():
    one, two = XApi.generate(seed=1), XApi.generate(seed=1)
    tweets = list(one.tweets.values())

    assert [t["id"] for t in tweets] == list(two.tweets) and len(tweets) == 5000
    assert len({t["author_id"] for t in tweets}) == 1000
    assert len({t["conversation_id"] for t in tweets}) == 800
    served_order = [t["id"] for t in one.mentions_of(one.account)]
    position = {tweet_id: n for n, tweet_id in enumerate(served_order)}
    parents = [t["referenced_tweets"][0]["id"] for t in tweets if t.get("in_reply_to_user_id")]
    replies = [t["id"] for t in tweets if t.get("in_reply_to_user_id")]
    assert sum(position.get(r, 0) < position.get(p, -1) for r, p in zip(replies, parents)) > 1000
