"""The Bluesky client against a local PDS speaking AT Protocol XRPC."""

import json
import logging
from datetime import timedelta, timezone

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
    values,
)
from channels.bluesky import LOW_QUOTA, MAX_PAGES, MAX_THREAD_FETCHES, render_text
from fake_platforms.bluesky_api import BlueskyServer, xrpc_error
from fake_platforms.server import Reply

SEARCH = "app.bsky.feed.searchPosts"
NOTIFICATIONS = "app.bsky.notification.listNotifications"


@pytest.fixture
def server():
    with BlueskyServer() as running:
        yield running


def client(server, mode="mentions", target="", max_items=200, timeout=(2, 2), **credentials):
    settings = SourceSettings(
        platform="bluesky",
        mode=mode,
        target=target,
        api_url=server.url,
        allow_local=True,
        max_items=max_items,
        credentials={"identifier": server.me.handle, "app_password": server.app_password, **credentials},
    )
    return client_for(settings, Transport(allow_local=True, timeout=timeout))


def posts_of(batches):
    return {post.external_id: post for batch in batches for post in batch.posts}


def authors_of(batches):
    return {author.external_id: author for batch in batches for author in batch.authors}


@pytest.fixture
def conversation(server):
    """Alice answers our post, we answer her, she answers again; a shop
    with a domain handle mentions us; Alice likes our post."""
    alice = server.add_account("alice.bsky.social", "Alice Brook", "Weekend hiker.", followers=120)
    shop = server.add_account("gearshop.example", "Gear Shop", "Outdoor shop in Annecy.", followers=900)
    root = server.add_post(server.me, "Our new Ridge 2P is out!")
    question = server.add_post(alice, "Does it fit two people and bags?", reply_to=root)
    answer = server.add_post(server.me, "@alice.bsky.social yes, with room for bags.", reply_to=question)
    thanks = server.add_post(alice, "Great, ordering one.", reply_to=answer, langs=("en", "fr"))
    mention = server.add_post(
        shop, "Now stocking @tentworks.example tents — <b>in store</b> https://gearshop.example/tents"
    )
    server.like(alice, root)
    return {
        "alice": alice,
        "shop": shop,
        "root": root,
        "question": question,
        "answer": answer,
        "thanks": thanks,
        "mention": mention,
    }


def test_first_pull_logs_in_and_reads_mentions_and_replies(server, conversation):
    puller = client(server)
    batches = list(puller.pull(None))

    login = server.calls("com.atproto.server.createSession")
    assert len(login) == 1
    assert json.loads(login[0].body) == {"identifier": "tentworks.example", "password": server.app_password}
    assert set(puller.credential_updates) == {"access_jwt", "refresh_jwt"}
    assert puller.credential_updates["access_jwt"] in server.tokens

    posts = posts_of(batches)
    c = conversation
    # the like is no mention; the question, thanks and mention are
    notified = {c["question"].uri, c["thanks"].uri, c["mention"].uri}
    assert notified <= set(posts)
    thanks = posts[c["thanks"].uri]
    assert thanks.thread_key == c["root"].uri
    assert thanks.parent_id == c["answer"].uri
    assert thanks.language == "en"
    rkey = c["thanks"].uri.rsplit("/", 1)[1]
    assert thanks.url == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"
    assert posts[c["mention"].uri].thread_key == c["mention"].uri
    assert posts[c["mention"].uri].parent_id == ""


def test_parent_outside_the_batch_comes_from_the_thread(server, conversation):
    posts = posts_of(client(server).pull(None))
    c = conversation
    # our answer and our root post were not notified: the thread brought them
    assert {c["answer"].uri, c["root"].uri} <= set(posts)
    assert posts[c["answer"].uri].direction == "outbound"
    assert posts[c["root"].uri].direction == "outbound"
    assert posts[c["root"].uri].thread_key == c["root"].uri
    assert posts[c["question"].uri].direction == "inbound"
    assert posts[c["root"].uri].like_count == 1
    threads = server.calls("app.bsky.feed.getPostThread")
    assert [t.param("uri") for t in threads] == [c["answer"].uri]


def test_deleted_parent_keeps_the_reply(server, conversation):
    server.delete(conversation["answer"])
    posts = posts_of(client(server).pull(None))
    thanks = posts[conversation["thanks"].uri]
    assert thanks.parent_id == conversation["answer"].uri
    assert conversation["answer"].uri not in posts


def test_handles_dids_and_verified_websites(server, conversation):
    authors = authors_of(client(server).pull(None))
    alice, shop = authors[conversation["alice"].did], authors[conversation["shop"].did]
    assert alice.external_id.startswith("did:plc:")
    assert (alice.handle, alice.name, alice.bio, alice.followers) == (
        "alice.bsky.social",
        "Alice Brook",
        "Weekend hiker.",
        120,
    )
    assert alice.profile_url == "https://bsky.app/profile/alice.bsky.social"
    assert alice.avatar_url.startswith("https://cdn.bsky.app/img/avatar/")
    assert alice.verified_websites == ()
    assert shop.handle == "gearshop.example"
    assert shop.verified_websites == ("https://gearshop.example",)
    assert authors[server.me.did].verified_websites == ("https://tentworks.example",)

    conversation["alice"].handle = "alice.example"  # she proves she owns a domain
    server.add_post(conversation["alice"], "@tentworks.example new handle!")
    renamed = authors_of(client(server).pull(None))[conversation["alice"].did]
    assert (renamed.handle, renamed.verified_websites) == ("alice.example", ("https://alice.example",))


def test_text_is_escaped_and_facets_become_links(server, conversation):
    body = posts_of(client(server).pull(None))[conversation["mention"].uri].body_html
    assert "&lt;b&gt;in store&lt;/b&gt;" in body and "<b>" not in body
    assert f'<a href="https://bsky.app/profile/{server.me.did}">@tentworks.example</a>' in body
    assert '<a href="https://gearshop.example/tents">https://gearshop.example/tents</a>' in body


def test_render_text_counts_facets_in_utf8_bytes():
    text = "Québec → see example.com/tents\nbye"
    start = len("Québec → see ".encode())
    facets = [
        {
            "index": {"byteStart": start, "byteEnd": start + len("example.com/tents")},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/tents?size=2"}],
        },
        {
            "index": {"byteStart": 0, "byteEnd": 3},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}],
        },
        {
            "index": {"byteStart": start + 2, "byteEnd": start + 30},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "overlap"}],
        },
    ]
    assert render_text(text, facets) == (
        '<p>Québec → see <a href="https://example.com/tents?size=2">example.com/tents</a><br>bye</p>'
    )


def test_stored_session_is_reused(server, conversation):
    puller = client(server, **server.issue_session())
    posts = posts_of(puller.pull(None))
    assert not server.calls("com.atproto.server.createSession")
    assert not server.calls("com.atproto.server.refreshSession")
    assert puller.credential_updates == {}
    # the session's DID, read from the token, marks our own posts
    assert posts[conversation["root"].uri].direction == "outbound"


def test_expired_access_token_is_refreshed(server, conversation, caplog):
    session = server.issue_session()
    server.expire_tokens()
    puller = client(server, **session)
    with caplog.at_level(logging.DEBUG):
        posts = posts_of(puller.pull(None))

    assert conversation["thanks"].uri in posts
    refresh = server.calls("com.atproto.server.refreshSession")
    assert [r.headers["authorization"] for r in refresh] == [f"Bearer {session['refresh_jwt']}"]
    assert not server.calls("com.atproto.server.createSession")
    updates = puller.credential_updates
    assert updates["access_jwt"] != session["access_jwt"]
    assert updates["refresh_jwt"] != session["refresh_jwt"]
    assert session["refresh_jwt"] not in server.tokens  # single use: the ORM must store the new one
    for secret in (*session.values(), *updates.values()):
        assert secret not in caplog.text


def test_refused_refresh_opens_a_new_session(server, conversation):
    session = server.issue_session()
    server.expire_tokens(access=True, refresh=True)
    puller = client(server, **session)
    assert conversation["thanks"].uri in posts_of(puller.pull(None))
    assert len(server.calls("com.atproto.server.refreshSession")) == 1
    assert len(server.calls("com.atproto.server.createSession")) == 1
    assert puller.credential_updates["access_jwt"] in server.tokens


def test_wrong_app_password_asks_to_reconnect(server, caplog):
    puller = client(server, app_password="wrong-pass-word-1234")
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as raised:
        list(puller.pull(None))
    message = str(raised.value)
    assert "reconnect" in message and "AuthenticationRequired" in message
    assert "wrong-pass-word-1234" not in message + repr(raised.value) + caplog.text
    assert puller.credential_updates == {}


def test_session_refused_after_renewal_asks_to_reconnect(server):
    refused = xrpc_error(401, "InvalidToken", "Token could not be verified")
    server.script(NOTIFICATIONS, refused, refused)
    with pytest.raises(AuthError, match="reconnect"):
        list(client(server, **server.issue_session()).pull(None))
    assert len(server.calls("com.atproto.server.refreshSession")) == 1


def fill_search(server, count, word="ridge"):
    walker = server.add_account("walker.bsky.social", "Walker")
    return [server.add_post(walker, f"{word} test #{n}") for n in range(count)]


def test_search_pages_with_cursor_then_stops_at_what_it_saw(server):
    posted = fill_search(server, 230)
    batches = list(client(server, "search", "ridge", max_items=500).pull(None))
    assert [len(b.posts) for b in batches] == [100, 100, 30]
    assert [bool(b.cursor.get("page")) for b in batches] == [True, True, False]
    assert set(posts_of(batches)) == {post.uri for post in posted}
    searches = server.calls(SEARCH)
    assert [s.param("sort") for s in searches] == ["latest"] * 3
    assert [s.param("cursor") for s in searches] == [None, "100", "200"]

    again = list(client(server, "search", "ridge").pull(batches[-1].cursor))
    assert posts_of(again) == {}
    newer = server.add_post(posted[0].author, "ridge news")
    latest = list(client(server, "search", "ridge").pull(again[-1].cursor))
    assert set(posts_of(latest)) == {newer.uri}
    assert server.calls(SEARCH)[-1].param("since") is not None


def test_outage_mid_paging_resumes_after_the_stored_page(server):
    posted = fill_search(server, 230)
    server.script(SEARCH, None, Reply(502, "Bad Gateway"))
    stored = []
    with pytest.raises(UnavailableError):
        for batch in client(server, "search", "ridge", max_items=500).pull(None):
            stored.append(batch)
    assert len(stored) == 1
    arrived_meanwhile = server.add_post(posted[0].author, "ridge while down")

    resumed = list(client(server, "search", "ridge", max_items=500).pull(stored[-1].cursor))
    first, rest = set(posts_of(stored)), set(posts_of(resumed))
    assert not first & rest
    assert first | rest == {post.uri for post in posted}
    # the run ends at the old watermark; the next pull starts above it
    after = posts_of(client(server, "search", "ridge").pull(resumed[-1].cursor))
    assert set(after) == {arrived_meanwhile.uri}


def test_first_pull_reads_only_the_newest_max_items(server, conversation):
    batches = list(client(server, max_items=2).pull(None))
    posts = posts_of(batches)
    assert {conversation["mention"].uri, conversation["thanks"].uri} <= set(posts)
    # the newest notification is a like, filtered out after fetching: a second page brings the second post
    assert [call.param("limit") for call in server.calls(NOTIFICATIONS)] == ["2", "1"]
    assert "page" not in batches[-1].cursor  # older history is not backfilled


def test_max_items_leaves_the_gap_for_the_next_pull(server, conversation):
    first = list(client(server).pull(None))
    shop = conversation["shop"]
    fresh = [server.add_post(shop, f"@tentworks.example tent question {n}") for n in range(5)]
    capped = list(client(server, max_items=3).pull(first[-1].cursor))
    assert len(posts_of(capped)) == 3 and capped[-1].cursor.get("page")
    rest = list(client(server, max_items=3).pull(capped[-1].cursor))
    assert set(posts_of(capped)) | set(posts_of(rest)) == {post.uri for post in fresh}
    assert "page" not in rest[-1].cursor
    assert posts_of(client(server).pull(rest[-1].cursor)) == {}


def test_generated_network_pages_through_all_mentions():
    with BlueskyServer.generate(posts=600, authors=80, threads=60, seed=3) as server:
        assert len(server.posts) == 600 and len(server.accounts) == 81
        assert sum(post.parent is None for post in server.posts.values()) == 60
        puller = client(server, max_items=1000)
        batches = list(puller.pull(None))
        notified = {n["uri"] for n in server.notifications if n["reason"] in ("mention", "reply")}
        assert len(notified) > 150
        assert notified <= set(posts_of(batches))
        assert len(server.calls("app.bsky.feed.getPostThread")) <= MAX_THREAD_FETCHES
        assert all(len(r.query.get("uris", [])) <= 25 for r in server.calls("app.bsky.feed.getPosts"))
        assert any(author.verified_websites for author in authors_of(batches).values())
    again = BlueskyServer.generate(posts=600, authors=80, threads=60, seed=3)
    assert list(again.posts) == list(server.posts)


def test_low_quota_sets_the_next_pull_time(server):
    fill_search(server, 230)
    server.quota = LOW_QUOTA + 3  # after login, search and profiles: too few calls left for a page
    batches = list(client(server, "search", "ridge", max_items=500).pull(None))
    assert len(batches) == 1
    assert 0 < batches[0].wait_seconds <= server.window
    assert batches[0].cursor.get("page")


@pytest.mark.parametrize("window", [60, 3600])
def test_a_low_or_spent_quota_waits_until_the_reset_bluesky_sends(window):
    """The PDS's ``ratelimit-reset``, not the client's 5-minute fallback,
    sets the wait, on a page that leaves too few calls and on a 429."""
    with freeze_time("2026-11-23 10:00:00"), BlueskyServer(window=window) as server:
        fill_search(server, 230)
        server.quota = LOW_QUOTA + 3
        batches = list(client(server, "search", "ridge", max_items=500).pull(None))
        server.quota = 1
        with pytest.raises(RateLimitedError) as raised:
            list(client(server, "search", "ridge").pull(batches[-1].cursor))
    assert [batch.wait_seconds for batch in batches] == [window]
    assert raised.value.retry_after == window


def test_429_raises_rate_limited_with_the_reset(server):
    fill_search(server, 5)
    server.quota = 1  # the login spends it
    with pytest.raises(RateLimitedError) as raised:
        list(client(server, "search", "ridge").pull(None))
    assert 0 < raised.value.retry_after <= server.window


@pytest.mark.parametrize(
    "reply, error, words",
    [
        (Reply(502, "<html>Bad Gateway</html>"), UnavailableError, "HTTP 502"),
        (Reply(200, '{"posts": [', {"Content-Type": "application/json"}), InvalidDataError, "malformed JSON"),
        (Reply(200, "{}", delay=1.5), UnavailableError, "did not answer"),
        (xrpc_error(400, "BadQueryString", "unbalanced quotes"), InvalidDataError, "BadQueryString"),
    ],
)
def test_failures_raise_clear_errors(server, reply, error, words):
    server.script(SEARCH, reply)
    with pytest.raises(error, match=words):
        list(client(server, "search", "ridge", timeout=(1, 0.5)).pull(None))


def test_post_without_uri_is_skipped_by_name_and_the_page_kept(server):
    bad, good = (server.post_view(post) for post in fill_search(server, 2))
    del bad["uri"]
    server.script(SEARCH, Reply(200, json.dumps({"posts": [bad, good]})))
    batches = list(client(server, "search", "ridge").pull(None))
    assert set(posts_of(batches)) == {good["uri"]}
    assert [reason for batch in batches for reason in batch.skipped] == ["a post: Bluesky sent a post without 'uri'"]


def test_notification_without_date_is_skipped_by_name_and_the_page_kept(server, conversation):
    bad, good = (server.notification_view(item) for item in server.notifications[:2])
    del bad["indexedAt"]
    server.script(NOTIFICATIONS, Reply(200, json.dumps({"notifications": [bad, good]})))
    batches = list(client(server).pull(None))
    assert good["uri"] in posts_of(batches)
    [reason] = [reason for batch in batches for reason in batch.skipped]
    assert "'indexedAt'" in reason and bad["uri"] in reason


def test_missing_optional_fields_take_defaults(server):
    walker = server.add_account("walker.bsky.social", avatar="")
    view = server.post_view(server.add_post(walker, "ridge bare"))
    for key in ("likeCount", "repostCount", "replyCount"):
        del view[key]
    del view["record"]["langs"]
    server.script(SEARCH, Reply(200, json.dumps({"posts": [view]})))
    server.script("app.bsky.actor.getProfiles", Reply(200, json.dumps({"profiles": []})))
    batches = list(client(server, "search", "ridge").pull(None))
    (post,) = posts_of(batches).values()
    (author,) = authors_of(batches).values()
    assert (post.like_count, post.language, post.body_html) == (0, "", "<p>ridge bare</p>")
    assert (author.handle, author.name, author.avatar_url, author.followers) == (
        "walker.bsky.social",
        "walker.bsky.social",
        "",
        None,
    )


@pytest.mark.parametrize(
    "mode, target, words", [("timeline", "", "not 'timeline'"), ("search", "  ", "no query")]
)
def test_bad_source_settings(server, mode, target, words):
    with pytest.raises(ConfigError, match=words):
        list(client(server, mode, target).pull(None))


# -- the AppView's own behaviour ------------------------------------------------


def raw_listing(server, **params):
    """What listNotifications answers, as the client receives it."""
    token = server.issue_session()["access_jwt"]
    response = Transport(allow_local=True, timeout=(2, 2)).request(
        "GET", f"{server.url}/xrpc/{NOTIFICATIONS}", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    return response.json()


def test_an_empty_filtered_page_with_a_cursor_keeps_the_paging_going(server, conversation):
    """A watermark, then 2 mentions, 400 likes and 3 more mentions: the
    AppView filters by reason after fetching, so the pages of likes come
    back empty with a cursor, and the 2 older mentions lie below them."""
    first = list(client(server).pull(None))
    shop, root = conversation["shop"], conversation["root"]
    older = [server.add_post(shop, f"@tentworks.example older question {n}") for n in range(2)]
    for n in range(400):
        liker = server.add_account(f"liker{n}.bsky.social")
        server.like(liker, root, at=older[-1].indexed_at + timedelta(milliseconds=50 * (n + 1)))
    newer = [server.add_post(shop, f"@tentworks.example newer question {n}") for n in range(3)]

    top = raw_listing(server, limit=100, reasons=["mention", "reply", "quote"])
    assert len(top["notifications"]) == 3
    below = raw_listing(server, limit=100, reasons=["mention", "reply", "quote"], cursor=top["cursor"])
    assert below["notifications"] == [] and below["cursor"]  # as the AppView answers

    batches = list(client(server).pull(first[-1].cursor))
    assert set(posts_of(batches)) >= {post.uri for post in older + newer}
    assert not set(posts_of(batches)) & {conversation[name].uri for name in ("question", "thanks", "mention")}
    assert posts_of(client(server).pull(batches[-1].cursor)) == {}


def test_an_empty_search_page_with_a_cursor_keeps_the_paging_going(server):
    """The AppView drops hits it may not show (taken down, blocked) after
    fetching them: a whole page of them comes back empty, with a cursor."""
    newest_first = fill_search(server, 230)[::-1]
    server.script(SEARCH, None, Reply(200, json.dumps({"cursor": "200", "hitsTotal": 230, "posts": []})))
    batches = list(client(server, "search", "ridge", max_items=500).pull(None))
    assert set(posts_of(batches)) == {post.uri for post in newest_first[:100] + newest_first[200:]}
    assert [s.param("cursor") for s in server.calls(SEARCH)] == [None, "100", "200"]


def test_a_mention_indexed_late_below_the_watermark_is_pulled_once(server, conversation):
    """Written before the last pull, indexed after it: its sort time,
    min(createdAt, indexedAt), lies below the watermark."""
    first = list(client(server).pull(None))
    watermark = values.parse_date(first[-1].cursor["seen_at"])
    late = server.add_post(
        conversation["shop"],
        "@tentworks.example written offline",
        at=watermark.replace(tzinfo=timezone.utc) - timedelta(minutes=5),
        indexed_at=watermark.replace(tzinfo=timezone.utc) + timedelta(minutes=2),
    )
    [view] = [n for n in raw_listing(server, limit=10)["notifications"] if n["uri"] == late.uri]
    assert view["indexedAt"] == view["record"]["createdAt"]  # the AppView shows the sort time

    batches = list(client(server).pull(first[-1].cursor))
    assert set(posts_of(batches)) == {late.uri}
    assert posts_of(client(server).pull(batches[-1].cursor)) == {}


def test_a_post_indexed_late_below_the_search_watermark_is_pulled_once(server):
    fill_search(server, 3)
    first = list(client(server, "search", "ridge").pull(None))
    watermark = values.parse_date(first[-1].cursor["seen_at"]).replace(tzinfo=timezone.utc)
    late = server.add_post(
        server.add_account("offline.bsky.social"),
        "ridge written offline",
        at=watermark - timedelta(minutes=5),
        indexed_at=watermark + timedelta(minutes=2),
    )
    batches = list(client(server, "search", "ridge").pull(first[-1].cursor))
    assert set(posts_of(batches)) == {late.uri}
    assert posts_of(client(server, "search", "ridge").pull(batches[-1].cursor)) == {}


def test_a_quote_of_our_post_is_pulled(server, conversation):
    quote = server.add_post(conversation["shop"], "This is the tent we stock", quote=conversation["root"])
    [view] = [n for n in raw_listing(server, limit=10, reasons=["quote"])["notifications"]]
    assert (view["reason"], view["reasonSubject"]) == ("quote", conversation["root"].uri)

    posts = posts_of(client(server).pull(None))
    assert posts[quote.uri].thread_key == quote.uri and posts[quote.uri].direction == "inbound"
    assert server.calls(NOTIFICATIONS)[-1].query["reasons"] == ["mention", "reply", "quote"]


def test_a_notification_whose_post_was_deleted_is_not_stored(server, conversation):
    gone = server.add_post(conversation["shop"], "@tentworks.example oops, wrong account")
    listed = raw_listing(server, limit=100, reasons=["mention", "reply", "quote"])
    server.delete(gone)  # between the listing and getPosts
    server.script(NOTIFICATIONS, Reply(200, json.dumps(listed)))
    posts = posts_of(client(server).pull(None))
    assert gone.uri not in posts and conversation["mention"].uri in posts

    # once deleted, the AppView no longer lists it at all
    assert gone.uri not in {n["uri"] for n in raw_listing(server, limit=100)["notifications"]}


def test_handle_invalid_is_no_handle(server, conversation):
    shop = conversation["shop"]
    shop.handle = "handle.invalid"  # the handle no longer resolves to the DID
    batches = list(client(server).pull(None))
    author = authors_of(batches)[shop.did]
    assert author.handle == shop.did
    assert author.name == "Gear Shop (handle not verified)"
    assert author.verified_websites == ()
    assert author.profile_url == f"https://bsky.app/profile/{shop.did}"
    assert posts_of(batches)[conversation["mention"].uri].url.startswith(f"https://bsky.app/profile/{shop.did}/post/")


def test_a_login_written_as_at_handle_logs_in_with_the_handle(server, conversation):
    refused = client(server).transport.request(
        "POST",
        f"{server.url}/xrpc/com.atproto.server.createSession",
        json_body={"identifier": f"@{server.me.handle}", "password": server.app_password},
        expected=(401,),
    )
    assert refused.json()["error"] == "AuthenticationRequired"  # the PDS reads "@…" as an email

    assert posts_of(client(server, identifier=f" @{server.me.handle}").pull(None))
    assert posts_of(client(server, identifier=server.email).pull(None))
    sent = [json.loads(call.body)["identifier"] for call in server.calls("com.atproto.server.createSession")]
    assert sent[1:] == [server.me.handle, server.email]


def test_endless_empty_pages_stop_at_max_pages_and_resume_there(server, conversation):
    first = list(client(server).pull(None))
    cursors = [f"{1_700_000_000_000 - n}::bafyreipage{n}" for n in range(MAX_PAGES)]  # the AppView's keyset
    server.script(NOTIFICATIONS, *(Reply(200, json.dumps({"notifications": [], "cursor": c})) for c in cursors))
    server.requests.clear()
    batches = list(client(server).pull(first[-1].cursor))
    assert len(server.calls(NOTIFICATIONS)) == MAX_PAGES
    assert batches[-1].cursor["page"] == cursors[-1]
    assert batches[-1].cursor["seen_at"] == first[-1].cursor["seen_at"]
    list(client(server).pull(batches[-1].cursor))
    assert server.calls(NOTIFICATIONS)[MAX_PAGES].param("cursor") == cursors[-1]


def test_a_cursor_that_does_not_move_ends_the_run(server, conversation):
    stuck = Reply(200, json.dumps({"notifications": [], "cursor": "stuck"}))
    server.script(NOTIFICATIONS, None, stuck, stuck, stuck)
    batches = list(client(server).pull(None))
    assert len(server.calls(NOTIFICATIONS)) == 3
    assert "page" not in batches[-1].cursor and batches[-1].cursor["seen_at"]


@pytest.mark.parametrize("cursor", [123, {"at": 1}, ""])
def test_a_cursor_that_is_no_string_ends_the_run(server, conversation, cursor):
    listed = raw_listing(server, limit=100, reasons=["mention", "reply", "quote"])
    server.script(NOTIFICATIONS, Reply(200, json.dumps({**listed, "cursor": cursor})))
    batches = list(client(server).pull(None))
    assert conversation["mention"].uri in posts_of(batches)
    assert len(server.calls(NOTIFICATIONS)) == 2 and "page" not in batches[-1].cursor
