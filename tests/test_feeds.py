"""The feed client against a real blog host on 127.0.0.1: RSS 2.0, RSS 1.0
and Atom entries and their comments as threads, conditional pulls, cursors,
and the clear, typed error a source stores for each kind of bad input."""

import resource
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from channels import (
    ConfigError,
    InvalidDataError,
    NotFoundError,
    SourceSettings,
    Transport,
    UnavailableError,
    client_for,
)
from channels import feeds
from fake_platforms.feed_site import sample_entries
from fake_platforms.server import Reply

pytest_plugins = ["loopback_fixtures"]

SECRET = "s3cr3t-t0ken-4f9a"
#: the offset the sample blog writes its dates with; posts carry naive UTC
UTC_PLUS_2 = timezone(timedelta(hours=2))
#: the external id each format gives an entry of blog ``trail`` (its guid,
#: its rdf:about, its Atom id)
ENTRY_ID = {"rss2": "{site}/trail/{id}", "rss1": "{site}/trail/{id}.html", "atom": "tag:trail,2026:{id}"}
#: the author "Writer n <writern@blogs.example>" as each format tells it:
#: RSS 1.0 ``dc:creator`` carries a name only, scoped to the feed's host
AUTHOR = {
    "rss2": ("mailto:writer{n}@blogs.example", "Writer {n}", "writer{n}@blogs.example"),
    "rss1": ("127.0.0.1:Writer {n}", "Writer {n}", ""),
    "atom": ("mailto:writer{n}@blogs.example", "Writer {n}", "writer{n}@blogs.example"),
}


def pull(url, cursor=None, **settings):
    """Every batch of one pull of ``url`` by a source marked local."""
    settings = {"allow_local": True, **settings}
    return list(client_for(SourceSettings(platform="feed", mode="feed", target=url, **settings)).pull(cursor))


def rss(items):
    return (
        '<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/">'
        f"<channel><title>Hand-made</title>{items}</channel></rss>"
    )


def atom(entries):
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Hand-made</title>{entries}</feed>'


def ids(batches):
    return [post.external_id for batch in batches for post in batch.posts]


def naive_utc(moment):
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize("fmt", ["rss2", "rss1", "atom"])
def test_entries_become_posts_and_comments_join_their_thread(site, fmt):
    entries = sample_entries(3, comments_per_entry=2, start=datetime(2026, 11, 1, 11, tzinfo=UTC_PLUS_2))
    feed, *comments = pull(site.add_blog("trail", entries, fmt=fmt))

    def entry_id(item):
        return ENTRY_ID[fmt].format(site=site.url, id=item.id)

    assert [(p.external_id, p.thread_key, p.parent_id, p.title, p.url, p.posted_at) for p in feed.posts] == [
        (
            entry_id(entry),
            entry_id(entry),
            "",
            f"Field notes #{n}",
            f"{site.url}/trail/post-{n}.html",
            datetime(2026, 11, 1, 9 + n),
        )
        for n, entry in zip((2, 1, 0), entries)
    ]
    assert feed.posts[0].body_html == "<p>Trip report 2: the <b>tent</b> held up in the wind.</p>"
    authors = {author.external_id: author for author in feed.authors}
    assert [
        (authors[p.author_id].external_id, authors[p.author_id].name, authors[p.author_id].email) for p in feed.posts
    ] == [tuple(part.format(n=n) for part in AUTHOR[fmt]) for n in (0, 1, 0)]

    assert len(comments) == 3
    assert {p.external_id: (p.thread_key, p.parent_id, p.posted_at) for batch in comments for p in batch.posts} == {
        entry_id(comment): (entry_id(entry), entry_id(entry), naive_utc(comment.published))
        for entry in entries
        for comment in entry.comments
    }


def test_atom_in_reply_to_threads_a_reply_under_the_comment_it_answers(site):
    [entry] = sample_entries(1, comments_per_entry=2)
    entry.comments[1].in_reply_to = entry.comments[0].id
    _feed, comments = pull(site.add_blog("trail", [entry], fmt="atom"))
    assert [(p.external_id, p.thread_key, p.parent_id) for p in comments.posts] == [
        ("tag:trail,2026:post-0-c0", "tag:trail,2026:post-0", "tag:trail,2026:post-0"),
        ("tag:trail,2026:post-0-c1", "tag:trail,2026:post-0", "tag:trail,2026:post-0-c0"),
    ]


def test_a_second_pull_is_conditional_and_a_changed_entry_comes_back(site):
    entries = sample_entries(2, comments_per_entry=1)
    url = site.add_blog("trail", entries)
    served = requests.get(url, timeout=5).headers
    first = pull(url)
    site.requests.clear()

    second = pull(url, first[-1].cursor)
    assert [(batch.not_modified, batch.posts) for batch in second] == [(True, ())] * 3
    assert [request.path for request in site.requests] == [
        "/trail/feed",
        "/trail/comments/post-1",
        "/trail/comments/post-0",
    ]
    assert site.requests[0].headers["if-none-match"] == served["ETag"]
    assert site.requests[0].headers["if-modified-since"] == served["Last-Modified"] == "Sun, 01 Nov 2026 10:00:00 GMT"

    entries[0].body = "<p>Update: the tent tore at dawn.</p>"
    third = pull(url, second[-1].cursor)
    assert not third[0].not_modified
    assert (third[0].posts[0].external_id, third[0].posts[0].body_html) == (
        f"{site.url}/trail/post-1",
        "<p>Update: the tent tore at dawn.</p>",
    )
    assert [batch.not_modified for batch in third[1:]] == [True, True]


def test_a_server_with_last_modified_only_answers_304(site):
    url = site.add_blog("trail", sample_entries(1))
    [batch] = pull(url, {"feed": {"last_modified": "Sun, 01 Nov 2026 09:00:00 GMT"}, "comments": {}})
    assert batch.not_modified and not batch.posts


def test_each_batch_cursor_resumes_a_crashed_sync_without_loss_or_duplicate(site):
    url = site.add_blog("trail", sample_entries(2, comments_per_entry=1))
    feed, first_comments, _second_comments = pull(url)
    assert set(feed.cursor["comments"]) == {f"{site.url}/trail/comments/post-1", f"{site.url}/trail/comments/post-0"}

    # the sync stored `feed` and `first_comments`, then crashed
    resumed = pull(url, first_comments.cursor)
    assert ids(resumed) == [f"{site.url}/trail/post-0-c0"]


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(404), id="404"),
        pytest.param(Reply(410), id="410"),
        pytest.param(Reply(200, "<html><body>Comments are closed</body></html>"), id="HTML"),
        pytest.param(Reply(200, "{\"error\": \"comments are closed\"}"), id="JSON"),
    ],
)
def test_a_comments_feed_that_fails_for_good_is_dropped_without_failing_the_pull(site, caplog, reply):
    url = site.add_blog("trail", sample_entries(2, comments_per_entry=1))
    site.script("/trail/comments/post-1", reply)
    batches = pull(url)
    assert ids(batches) == [f"{site.url}/trail/post-{n}" for n in (1, 0)] + [f"{site.url}/trail/post-0-c0"]
    assert list(batches[-1].cursor["comments"]) == [f"{site.url}/trail/comments/post-0"]
    assert f"comments feed no longer pulled: {site.url}/trail/comments/post-1" in caplog.text


def test_a_comments_feed_that_is_down_stops_the_pull_after_what_was_read(site):
    url = site.add_blog("trail", sample_entries(2, comments_per_entry=1))
    site.script("/trail/comments/post-1", Reply(503, headers={"Retry-After": "60"}))
    read = []
    with pytest.raises(UnavailableError, match=r"comments/post-1 is failing \(HTTP 503\)") as caught:
        for batch in client_for(SourceSettings("feed", "feed", url, allow_local=True)).pull(None):
            read.append(batch)
    assert ids(read) == [f"{site.url}/trail/post-{n}" for n in (1, 0)]
    assert caught.value.retry_after == 60


@pytest.mark.parametrize(
    "feed",
    [
        rss(
            "<item><guid>urn:uuid:1</guid><link>/posts/1.html</link><wfw:commentRss>comments/1</wfw:commentRss></item>"
        ),
        atom('<entry><id>urn:uuid:1</id><link href="/posts/1.html"/><link rel="replies" href="comments/1"/></entry>'),
    ],
    ids=["rss2", "atom"],
)
def test_relative_links_are_read_against_the_feed_url(site, feed):
    site.script("/blog/feed", Reply(200, feed))
    site.script("/blog/comments/1", Reply(200, rss("<item><guid>urn:uuid:1-c1</guid></item>")))
    feed_batch, comments = pull(f"{site.url}/blog/feed")
    assert feed_batch.posts[0].url == f"{site.url}/posts/1.html"
    assert [(p.external_id, p.thread_key) for p in comments.posts] == [("urn:uuid:1-c1", "urn:uuid:1")]


def test_links_that_are_not_http_are_dropped(site):
    site.script(
        "/feed",
        Reply(
            200,
            rss(
                "<item><guid>urn:uuid:1</guid><link>javascript:alert(document.cookie)</link>"
                "<wfw:commentRss>file:///etc/passwd</wfw:commentRss></item>"
            ),
        ),
    )
    [batch] = pull(f"{site.url}/feed")
    assert (batch.posts[0].url, batch.cursor["comments"]) == ("", {})


def test_max_items_caps_entries_and_their_comments_feeds(site):
    feed, *comments = pull(site.add_blog("trail", sample_entries(10, comments_per_entry=1)), max_items=4)
    assert ids([feed]) == [f"{site.url}/trail/post-{n}" for n in (9, 8, 7, 6)]
    assert len(comments) == len(feed.cursor["comments"]) == 4


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param(b"", "answered with an empty body instead of a feed", id="empty"),
        pytest.param(b" \r\n", "answered with an empty body instead of a feed", id="blank"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "is not well-formed XML .* and no feed could be read", id="binary"),
        pytest.param(b"Service Unavailable", "is not well-formed XML .* and no feed could be read", id="text"),
        pytest.param(
            "<!DOCTYPE html><html><head><meta charset=utf-8><title>Trail blog</title></head></html>",
            "is an HTML page, neither an RSS nor an Atom feed",
            id="HTML home page",
        ),
        pytest.param(
            '<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
            "is an HTML page, neither an RSS nor an Atom feed",
            id="XHTML page",
        ),
        pytest.param(
            '<opml version="2.0"><body/></opml>',
            r"is neither an RSS nor an Atom feed \(root element <opml>\)",
            id="OPML",
        ),
    ],
)
def test_unreadable_feeds_are_invalid_data(site, body, message):
    site.script("/feed", Reply(200, body))
    with pytest.raises(InvalidDataError, match=message) as caught:
        pull(f"{site.url}/feed?token={SECRET}")
    assert caught.value.message.startswith(f"{site.url}/feed?token=***")


def test_an_unreadable_entry_is_skipped_and_the_others_kept(site, monkeypatch):
    body = rss(
        "<item><guid>urn:bad</guid><title>Bad</title></item>"
        "<item><guid>urn:ok</guid><title>Fine</title><pubDate>0001-01-01T00:00:00+05:00</pubDate></item>"
    )
    real_read = feeds.FeedDocument._read

    def read(document, entry):
        if entry.get("id") == "urn:bad":
            raise TypeError("an entry of an unexpected shape")
        return real_read(document, entry)

    monkeypatch.setattr(feeds.FeedDocument, "_read", read)
    site.script("/feed", Reply(200, body))
    [batch] = pull(f"{site.url}/feed?token={SECRET}")
    [post] = batch.posts
    assert (post.external_id, post.title, post.posted_at) == ("urn:ok", "Fine", None), "an overflowing date is unknown"
    assert batch.skipped == ("entry: unreadable (TypeError)",)


def test_a_feed_cut_off_keeps_its_whole_entries_and_says_it_skipped_the_cut_one(site):
    site.add_blog("trail", sample_entries(3))
    whole = site.render("trail", site.blogs["trail"])
    site.script("/cut/feed", Reply(200, whole[: whole.index("Trip report 1")]))
    [batch] = pull(f"{site.url}/cut/feed")
    assert ids([batch]) == [f"{site.url}/trail/post-2"]
    assert batch.skipped == ("entry: cut off where the document ends; read again on the next pull",)


CANARY = "root-canary-7c1e:x:0:0"


@pytest.fixture
def secret_file(tmp_path):
    """A local file a hostile feed tries to read, as it would /etc/passwd."""
    path = tmp_path / "passwd"
    path.write_text(CANARY)
    return path.as_uri()


def lol_bomb(use):
    """Billion laughs: ten levels of ten references, 3 GB once expanded."""
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    return f"<!DOCTYPE rss [{entities}]>" + use


def titled(title):
    return rss(f"<item><guid>urn:uuid:1</guid><title>{title}</title></item>")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(lol_bomb(titled("&lol9;")), id="billion laughs"),
        pytest.param(lol_bomb('<rss version="2.0" a="&lol9;"/>'), id="billion laughs in an attribute"),
        pytest.param(f'<!DOCTYPE rss [<!ENTITY a "{"a" * 50_000}">]>' + titled("&a;" * 20_000), id="quadratic blowup"),
        pytest.param('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{file}">]>' + titled("&xxe;"), id="external entity"),
        pytest.param(
            '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{file}">]><rss version="2.0" a="&xxe;"/>',
            id="external entity in an attribute",
        ),
        pytest.param('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{file}">]>' + rss(""), id="unused external entity"),
        pytest.param(
            '<!DOCTYPE rss [<!ENTITY % dtd SYSTEM "{site}/evil.dtd"> %dtd;]>' + titled("&leak;"),
            id="parameter entity over the network",
        ),
    ],
)
def test_documents_declaring_entities_are_refused_unexpanded(site, secret_file, document):
    site.script("/evil.dtd", Reply(200, f'<!ENTITY leak SYSTEM "{secret_file}">'))
    site.script("/feed", Reply(200, document.replace("{file}", secret_file).replace("{site}", site.url)))
    memory, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.monotonic()
    with pytest.raises(InvalidDataError, match="/feed declares XML entities; refused as a possible XML bomb") as caught:
        pull(f"{site.url}/feed")
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory < 50_000  # KiB
    assert CANARY not in caught.value.message
    assert [request.path for request in site.requests] == ["/feed"]


@pytest.mark.parametrize("dtd", ["{site}/evil.dtd", "{file}"])
def test_an_external_dtd_is_never_loaded(site, secret_file, dtd):
    """A DOCTYPE naming an outside DTD is common (RSS 0.91) and harmless
    as long as the DTD is never read: the entity it would define stays unknown."""
    site.script("/evil.dtd", Reply(200, f'<!ENTITY leak SYSTEM "{secret_file}">'))
    dtd = dtd.replace("{site}", site.url).replace("{file}", secret_file)
    site.script("/feed", Reply(200, f'<!DOCTYPE rss SYSTEM "{dtd}">' + titled("Hi &leak;")))
    [batch] = pull(f"{site.url}/feed")
    assert batch.posts[0].external_id == "urn:uuid:1"
    assert CANARY not in repr(batch)
    assert [request.path for request in site.requests] == ["/feed"]


def test_a_feed_over_the_source_size_cap_is_refused(site):
    url = site.add_blog("trail", sample_entries(20))
    with pytest.raises(InvalidDataError, match="/trail/feed sent more than 4 KiB; refused"):
        pull(url, max_bytes=4096)
    assert len(pull(url, max_bytes=64 * 1024)[0].posts) == 20


@pytest.mark.parametrize(
    "reply, error, message",
    [
        (Reply(404), NotFoundError, r"does not exist \(HTTP 404\)"),
        (Reply(500), UnavailableError, r"is failing \(HTTP 500\)"),
        (Reply(200, "<rss/>", delay=1), UnavailableError, "did not answer within 0.3 seconds"),
    ],
)
def test_a_failing_feed_reaches_the_source_as_a_typed_error(site, reply, error, message):
    site.script("/feed", reply)
    settings = SourceSettings("feed", "feed", f"{site.url}/feed?token={SECRET}", allow_local=True)
    with pytest.raises(error, match=message) as caught:
        next(client_for(settings, Transport(allow_local=True, timeout=0.3)).pull(None))
    assert SECRET not in caught.value.message


@pytest.mark.parametrize(
    "target, message",
    [
        ("", "the source has no feed URL"),
        ("file:///etc/passwd", "only http and https URLs can be pulled"),
        ("ftp://files.example/feed.xml", "only http and https URLs can be pulled"),
        ("javascript:alert(1)", "only http and https URLs can be pulled"),
    ],
)
def test_a_feed_url_that_is_not_http_is_a_config_error(target, message):
    with pytest.raises(ConfigError, match=message):
        pull(target)


def test_a_source_not_marked_local_cannot_pull_from_loopback(site):
    url = site.add_blog("trail", sample_entries(1))
    with pytest.raises(ConfigError, match="resolves to the non-public address 127.0.0.1; mark the source as local"):
        pull(url, allow_local=False)
    assert site.requests == []
