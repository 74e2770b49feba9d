"""The Mastodon client against a local Mastodon API: modes, Link paging,
resume, thread context, privacy, identity evidence, rate limits, errors."""

import json
import logging

import pytest
from freezegun import freeze_time

from channels import (
    AuthError,
    ConfigError,
    InvalidDataError,
    RateLimitedError,
    SourceSettings,
    Transport,
    UnavailableError,
    client_for,
)
from channels import mastodon
from fake_platforms.mastodon_api import MastodonApi
from fake_platforms.server import Reply

TOKEN = "s3cret-loopback-token"
TAG_PATH = "/api/v1/timelines/tag/tentworks"


@pytest.fixture
def api():
    with MastodonApi(token=TOKEN) as server:
        yield server


def client(api, mode="hashtag", target="tentworks", token=TOKEN, transport=None, **options):
    settings = SourceSettings(
        platform="mastodon",
        mode=mode,
        target=target,
        api_url=api.url,
        credentials={"access_token": token} if token else {},
        allow_local=True,
        **options,
    )
    return client_for(settings, transport)


def pull(api, cursor=None, **options):
    return list(client(api, **options).pull(cursor or {}))


def key(api, status):
    return f"127.0.0.1:{api.port}:{status.id}"


def posts_of(batches):
    return [post for batch in batches for post in batch.posts]


def list_requests(api, path=TAG_PATH):
    return [request.query for request in api.requests if request.path == path]


def tagged(api, count, author=None):
    author = author or api.add_account("jo", domain="mastodon.social")
    return [api.post(author, f"Tent test {n}", tag="tentworks") for n in range(count)]


# ----------------------------------------------------------------------
# Paging
# ----------------------------------------------------------------------


def test_first_pull_reads_the_newest_back_to_max_items_and_hands_them_oldest_first(api):
    statuses = tagged(api, 100)
    batches = pull(api, max_items=90)
    assert [request.get("max_id", [None])[0] for request in list_requests(api)] == [
        None,
        statuses[60].id,
        statuses[20].id,
    ]
    assert [request["limit"] for request in list_requests(api)] == [["40"], ["40"], ["10"]]
    assert [[post.external_id for post in batch.posts] for batch in batches] == [
        [key(api, s) for s in statuses[10:20]],
        [key(api, s) for s in statuses[20:60]],
        [key(api, s) for s in statuses[60:]],
    ]
    # each batch's cursor is its own newest: a crash after any one resumes right after it
    assert [batch.cursor["since_id"] for batch in batches] == [statuses[19].id, statuses[59].id, statuses[99].id]


def test_next_pull_walks_newer_pages_from_min_id(api):
    old = tagged(api, 5)
    cursor = pull(api)[-1].cursor
    new = tagged(api, 50, author=old[0].account)
    api.requests.clear()
    batches = pull(api, cursor)
    assert [(request["min_id"], request["limit"]) for request in list_requests(api)] == [
        ([old[-1].id], ["40"]),
        ([new[39].id], ["40"]),
        ([new[-1].id], ["40"]),  # the short page linked to newer ones: asked until an empty page
    ]
    assert [post.external_id for post in posts_of(batches)] == [key(api, s) for s in new]
    assert batches[-1].cursor["since_id"] == new[-1].id
    api.requests.clear()
    nothing = pull(api, batches[-1].cursor)
    assert [list(batch.posts) for batch in nothing] == [[]] and nothing[0].cursor == batches[-1].cursor


def test_a_crash_after_the_first_page_resumes_after_it(api):
    old = tagged(api, 3)
    new = tagged(api, 60, author=old[0].account)
    first = next(client(api).pull({"since_id": old[-1].id, "account_id": api.owner.id}))  # then the worker dies
    resumed = pull(api, first.cursor)
    seen = [post.external_id for post in first.posts] + [post.external_id for post in posts_of(resumed)]
    assert seen == [key(api, s) for s in new]


def test_a_502_mid_paging_keeps_the_stored_pages_and_loses_nothing(api):
    old = tagged(api, 3)
    new = tagged(api, 60, author=old[0].account)
    batches = client(api).pull({"since_id": old[-1].id})
    first = next(batches)
    api.fail(TAG_PATH, Reply(502, "<html>Bad Gateway</html>"))
    with pytest.raises(UnavailableError, match="HTTP 502"):
        next(batches)
    rest = posts_of(pull(api, first.cursor))
    assert [post.external_id for post in [*first.posts, *rest]] == [key(api, s) for s in new]


# ----------------------------------------------------------------------
# Modes, threads, privacy, direction
# ----------------------------------------------------------------------


def test_mentions_mode_reads_mention_notifications_with_the_token(api):
    jo = api.add_account("jo", domain="fosstodon.org")
    api.post(jo, "Just a tent photo", tag="tentworks")
    asked = api.post(jo, "Does the Ridge 2 fit two?", mention=True, language="fr", spoiler_text="long read")
    batches = pull(api, mode="mentions", target="@tentworks")
    [post] = posts_of(batches)
    assert post.external_id == key(api, asked)
    assert (post.language, post.title, post.visibility, post.direction) == ("fr", "long read", "public", "inbound")
    assert "Does the Ridge 2 fit two?" in post.body_html and post.url.startswith("https://fosstodon.org/@jo/")
    notifications = [r for r in api.requests if r.path == "/api/v1/notifications"]
    assert notifications[0].query["types[]"] == ["mention"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in api.requests)
    assert batches[-1].cursor == {"account_id": api.owner.id, "since_id": api.notifications[-1].id}


def test_public_hashtag_needs_no_token(api):
    tagged(api, 2)
    batches = pull(api, token=None, target="#tentworks")
    assert len(posts_of(batches)) == 2
    assert [r.path for r in api.requests] == [TAG_PATH, TAG_PATH]  # the second, empty, ends the walk
    assert all("authorization" not in r.headers for r in api.requests)
    assert "account_id" not in batches[-1].cursor


def test_a_reply_brings_its_ancestors_and_joins_the_root_thread(api):
    jo, al, bo = (api.add_account(name, domain="mastodon.social") for name in ("jo", "al", "bo"))
    root = api.post(jo, "Which tent for the Alps?")  # not tagged: reached only via context
    middle = api.post(al, "The Ridge 2", reply_to=root)
    reply = api.post(bo, "Agreed, #tentworks", reply_to=middle, tag="tentworks")
    answer = api.post(jo, "Thanks!", reply_to=reply, tag="tentworks")
    posts = {post.external_id: post for post in posts_of(pull(api))}
    assert set(posts) == {key(api, s) for s in (root, middle, reply, answer)}
    assert {post.thread_key for post in posts.values()} == {key(api, root)}
    assert posts[key(api, reply)].parent_id == key(api, middle)
    assert posts[key(api, answer)].parent_id == key(api, reply)
    assert posts[key(api, root)].parent_id == ""
    # the answer's parent was already known: one context call in all
    assert [r.path for r in api.requests if r.path.endswith("/context")] == [f"/api/v1/statuses/{reply.id}/context"]


def test_past_the_context_cap_a_reply_keeps_its_parent_as_thread_key(api, monkeypatch):
    monkeypatch.setattr(mastodon, "MAX_CONTEXT_CALLS", 1)
    jo = api.add_account("jo")
    first_root, second_root = api.post(jo, "First question"), api.post(jo, "Second question")
    api.post(jo, "More on the first", reply_to=first_root, tag="tentworks")
    late = api.post(jo, "More on the second", reply_to=second_root, tag="tentworks")
    posts = {post.external_id: post for post in posts_of(pull(api))}
    assert posts[key(api, late)].thread_key == key(api, second_root) == posts[key(api, late)].parent_id
    assert key(api, second_root) not in posts


def test_direct_messages_are_private_and_own_messages_outbound(api):
    jo = api.add_account("jo", domain="hachyderm.io")
    question = api.direct(jo, "Can I return a tent bought in May?")
    answer = api.direct(api.owner, "Yes, within a year.", to=jo, reply_to=question)
    batches = pull(api, mode="dm", target="")
    posts = {post.external_id: post for post in posts_of(batches)}
    assert {p.visibility for p in posts.values()} == {"private"}
    assert posts[key(api, question)].direction == "inbound"
    assert posts[key(api, answer)].direction == "outbound"
    [conversation] = api.conversations.values()
    # a private exchange threads by its conversation, not by a status
    assert {p.thread_key for p in posts.values()} == {f"127.0.0.1:{api.port}:conversation:{conversation.id}"}
    assert posts[key(api, answer)].parent_id == key(api, question)
    # a local account's handle keeps the instance's port, as the instance shows it
    assert {author.handle for author in batches[0].authors} == {"jo@hachyderm.io", f"tentworks@127.0.0.1:{api.port}"}
    assert batches[-1].cursor["since_id"] == answer.id


# ----------------------------------------------------------------------
# Authors
# ----------------------------------------------------------------------


def test_authors_are_global_with_websites_only_when_verified(api):
    checked = api.add_account(
        "jo",
        "Jo Camper",
        domain="mastodon.social",
        followers=321,
        note="<p>Hiker.<br>Tents &amp; trails.</p>",
        website="https://jo.example",
        website_verified=True,
    )
    claimed = api.add_account("al", website="https://al.example", website_verified=False)
    api.post(checked, "Hi", tag="tentworks")
    api.post(claimed, "Hello", tag="tentworks")
    authors = {author.handle: author for author in pull(api)[-1].authors}
    jo, al = authors["jo@mastodon.social"], authors[f"al@127.0.0.1:{api.port}"]
    assert jo.external_id == "https://mastodon.social/users/jo"
    assert (jo.name, jo.bio, jo.followers, jo.profile_url) == (
        "Jo Camper",
        "Hiker.\nTents & trails.",
        321,
        "https://mastodon.social/@jo",
    )
    assert jo.verified_websites == ("https://jo.example",)
    assert al.verified_websites == () and al.external_id == f"{api.url}/users/al"


def test_a_boost_stands_for_the_boosted_status(api):
    jo = api.add_account("jo")
    original = api.status_json(api.post(jo, "Original tent review"))
    booster = api.account_json(api.add_account("al"))
    boost = {**original, "id": "999", "account": booster, "content": "", "reblog": original}
    api.fail(TAG_PATH, Reply(200, json.dumps([boost]), {"Content-Type": "application/json"}))
    [post] = posts_of(pull(api, token=None))
    assert post.external_id.endswith(f":{original['id']}") and "Original tent review" in post.body_html
    assert post.author_id == f"{api.url}/users/jo"


# ----------------------------------------------------------------------
# Rate limits and failures
# ----------------------------------------------------------------------


def test_a_spent_quota_stops_the_pull_and_sets_the_wait():
    with MastodonApi(token=TOKEN, quota=3, window=300) as api:
        tagged(api, 100)
        batches = pull(api)
    assert len(api.requests) == 3  # credentials and two pages: no request that would get a 429
    assert len(posts_of(batches)) == 80
    assert 290 <= batches[-1].wait_seconds <= 300


@pytest.mark.parametrize("window", [60, 3600])
def test_a_spent_quota_waits_until_the_reset_mastodon_sends(window):
    """``X-RateLimit-Reset``, not the client's 5-minute fallback, sets the
    wait, on a page that spends the quota and on a 429."""
    with freeze_time("2026-11-23 10:00:00"), MastodonApi(token=TOKEN, quota=3, window=window) as api:
        tagged(api, 100)
        batches = pull(api)
        with pytest.raises(RateLimitedError) as caught:
            pull(api, batches[-1].cursor)
    assert batches[-1].wait_seconds == window
    assert caught.value.retry_after == window


def test_429_raises_rate_limited_with_the_reset_time():
    with MastodonApi(token=TOKEN, quota=0, window=120) as api:
        with pytest.raises(RateLimitedError) as caught:
            pull(api)
    assert 110 <= caught.value.retry_after <= 120


def test_401_says_reconnect_and_never_shows_the_token(api, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError, match="reconnect") as caught:
        pull(api, mode="mentions", token="revoked-" + TOKEN)
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text
    with pytest.raises(AuthError, match=r"needs credentials \(an access token\): an administrator must enter them"):
        pull(api, mode="dm", token=None)


def test_a_silent_server_times_out(api):
    api.fail(TAG_PATH, Reply(200, "[]", delay=1.5))
    with pytest.raises(UnavailableError, match="did not answer"):
        pull(api, token=None, transport=Transport(allow_local=True, timeout=0.3))


def test_malformed_json_is_invalid_data(api):
    api.fail(TAG_PATH, Reply(200, '[{"id": "1", ', {"Content-Type": "application/json"}))
    with pytest.raises(InvalidDataError, match="malformed JSON"):
        pull(api, token=None)


@pytest.mark.parametrize("missing, message", [("id", "a status without 'id'"), ("account", "without 'account'")])
def test_a_status_without_a_required_field_is_skipped_naming_it(api, missing, message):
    bad, good = tagged(api, 2)
    api.break_status(bad, missing)
    batches = pull(api, token=None)
    assert [post.external_id for post in posts_of(batches)] == [key(api, good)]
    [reason] = [reason for batch in batches for reason in batch.skipped]
    assert message in reason


def test_missing_optional_fields_take_defaults(api):
    [status] = tagged(api, 1)
    api.break_status(status, "language", "favourites_count", "url", "spoiler_text", "created_at")
    [post] = posts_of(pull(api, token=None))
    assert (post.language, post.like_count, post.title, post.posted_at) == ("", 0, "", None)
    assert post.url.endswith(f"/statuses/{status.id}")  # the uri stands in


@pytest.mark.parametrize(
    "options, message",
    [
        ({"api_url": ""}, "no instance URL"),
        ({"mode": "hashtag", "target": "#"}, "no hashtag"),
        ({"mode": "home"}, "not 'home'"),
    ],
)
def test_misconfigured_sources_say_what_is_wrong(api, options, message):
    settings = {
        "platform": "mastodon",
        "mode": "hashtag",
        "target": "tentworks",
        "api_url": api.url,
        "allow_local": True,
        **options,
    }
    with pytest.raises(ConfigError, match=message):
        list(client_for(SourceSettings(**settings)).pull({}))
    assert api.requests == []


# ----------------------------------------------------------------------
# The benchmark's generator
# ----------------------------------------------------------------------


def test_generated_instance_is_deterministic_and_threads_resolve():
    shape = {"posts": 300, "authors": 80, "threads": 30, "seed": 7, "context_only": 0.05, "token": TOKEN}
    first, again = MastodonApi.generate(**shape), MastodonApi.generate(**shape)
    assert [(s.id, s.account.id, s.in_reply_to and s.in_reply_to.id, s.tags) for s in first.statuses] == [
        (s.id, s.account.id, s.in_reply_to and s.in_reply_to.id, s.tags) for s in again.statuses
    ]
    with first:
        posts = {post.external_id: post for post in posts_of(pull(first, max_items=1000))}
    reachable = {}  # the tagged statuses and, through their context, their ancestors
    for status in (s for s in first.statuses if s.tags):
        while status is not None:
            reachable[key(first, status)], status = status, status.in_reply_to
    assert set(posts) == set(reachable) and any(not s.tags for s in reachable.values())
    for external_id, post in posts.items():
        root = reachable[external_id]
        while root.in_reply_to is not None:
            root = root.in_reply_to
        assert post.thread_key == key(first, root)
    assert {post.author_id for post in posts.values()} == {
        first.account_json(s.account)["uri"] for s in reachable.values()
    }
    assert any(post.direction == "outbound" for post in posts.values())
