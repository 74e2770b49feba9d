"""Every client reads item by item: one malformed item is skipped with a
short reason on its batch and the rest of the page is kept; odd values are
coerced in one place (``channels.values`` and the records) for all clients;
an answer that cannot be read at all is one InvalidDataError."""

from datetime import datetime

import pytest

from channels import Author, InvalidDataError, Post, SourceSettings, client_for
from channels import values
from channels import x  # noqa: F401  registers the "x" client
from channels.base import ChannelClient
from channels.transport import Response
from fake_platforms.x_api import DROP, XApi

# ----------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------


def test_counts_are_clamped_to_int4_and_junk_is_the_default():
    assert values.count(2**40) == 2**31 - 1
    assert [values.count(v) for v in (-3, "7", 1.5, None, True, {"a": 1})] == [0] * 6
    assert values.count(-1, None) is None and values.count(42, None) == 42


def test_only_http_urls_are_kept():
    kept = ("https://x.com/ana", "http://blog.example/p?a=1")
    dropped = ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>", "//x.example/a", "https://", "")
    assert [values.web_url(url) for url in kept] == list(kept)
    assert [values.web_url(url) for url in (*dropped, "https://a b", {"a": 1}, 7)] == [""] * (len(dropped) + 3)


def test_texts_of_another_type_are_dropped_and_unstorable_characters_replaced():
    assert values.text({"a": 1}) == "" and values.text(12) == ""
    assert values.text("caf\udce9\x00 ok\x07") == "caf\ufffd ok"
    assert values.text("plain text\nline two") == "plain text\nline two"


@pytest.mark.parametrize(
    "raw",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "1900-01-01T00:00:00Z", "not a date", "", None, 17],
)
def test_dates_out_of_range_or_unreadable_are_unknown(raw):
    assert values.parse_date(raw) is None


def test_dates_are_naive_utc():
    assert values.parse_date("2026-11-20T09:12:03.000Z") == datetime(2026, 11, 20, 9, 12, 3)
    assert values.parse_date("Fri, 20 Nov 2026 10:12:03 +0100") == datetime(2026, 11, 20, 9, 12, 3)


def test_json_with_invalid_utf8_in_a_string_is_read_with_replacement():
    response = Response(200, "https://api.example/p?token=s3cret", b'{"data": [{"text": "caf\xe9 ok"}]}')
    assert values.read_json(response) == {"data": [{"text": "caf\ufffd ok"}]}


def test_json_nested_too_deeply_is_invalid_data_not_a_recursion_error():
    response = Response(200, "https://api.example/p?token=s3cret", b"[" * 100000 + b"]" * 100000)
    with pytest.raises(InvalidDataError, match=r"malformed JSON \(nested too deeply\)") as caught:
        values.read_json(response)
    assert "s3cret" not in caught.value.message


def test_records_coerce_their_values_and_require_their_keys():
    post = Post(
        external_id=123,
        thread_key="t",
        author_id="a",
        title={"a": 1},
        body_html=["x"],
        url="javascript:alert(1)",
        posted_at=datetime(1, 1, 1),
        like_count=2**40,
        repost_count=-4,
        visibility="weird",
    )
    assert (post.external_id, post.title, post.body_html, post.url, post.posted_at) == ("123", "", "", "", None)
    assert (post.like_count, post.repost_count, post.visibility) == (2**31 - 1, 0, "public")
    author = Author(external_id="a", avatar_url="javascript:x", profile_url="data:x", followers=-1, name=3)
    assert (author.avatar_url, author.profile_url, author.followers, author.name) == ("", "", None, "")
    for missing in ("external_id", "thread_key", "author_id"):
        with pytest.raises(InvalidDataError, match=f"no '{missing}'"):
            Post(**{"external_id": "1", "thread_key": "t", "author_id": "a", missing: None})


def test_remote_images_become_links_and_inline_ones_stay():
    body = values.without_remote_images(
        '<p>Hi <img src="https://pixel.example/o.gif?u=1" alt="logo"><img src="data:image/png;base64,AA"></p>'
        '<p style="x" background="http://bg.example/b.png">x</p><video poster="https://v.example/p.jpg"></video>'
    )
    assert "pixel.example" in body and "<img src=\"https" not in body and "[logo]</a>" in body
    assert 'src="data:image/png;base64,AA"' in body
    assert "bg.example" not in body and "v.example" not in body
    assert values.without_remote_images("<p>no media &amp; text</p>") == "<p>no media &amp; text</p>"


# ----------------------------------------------------------------------
# Clients
# ----------------------------------------------------------------------


@pytest.fixture
def api():
    with XApi.generate(posts=60, authors=12, threads=8, dms=12, seed=3, page_cap=10) as server:
        yield server


def x_pull(api, **options):
    settings = SourceSettings(
        platform="x", api_url=f"{api.url}/2", allow_local=True, max_items=1000, read_budget=None, **options
    )
    return list(client_for(settings).pull({}))


def test_an_x_direct_message_without_sender_id_is_skipped_and_the_page_kept(api):
    bad = sorted(api.dm_events, key=x.id_key)[-1]  # newest: on the first page
    api.alter(bad, sender_id=DROP)
    batches = x_pull(api, mode="dm", target="", credentials=api.credentials("user"))
    assert {p.external_id for b in batches for p in b.posts} == set(api.dm_events) - {bad}
    assert [r for b in batches for r in b.skipped] == [f"direct message {bad}: no 'sender_id'"]


def test_an_x_page_with_several_bad_items_keeps_the_good_ones_and_counts_every_read(api):
    mentions = [t["id"] for t in api.mentions_of(api.account)]
    first_page = mentions[:10]
    api.alter(first_page[0], author_id=DROP)
    api.alter(first_page[1], id=None)
    api.alter(first_page[2], public_metrics={"like_count": 2**40, "retweet_count": -5}, created_at="0001-01-01T00:00Z")
    users = [u for u in api.users if u != api.account]
    api.alter(users[0], id=None)  # an author X could not describe: posts keep a bare author
    batches = x_pull(api, mode="mentions", target=api.account, credentials=api.credentials("bearer"))
    posts = {p.external_id: p for b in batches for p in b.posts}
    assert set(mentions) - set(posts) <= {first_page[0], first_page[1]}
    kept = posts[first_page[2]]
    assert (kept.like_count, kept.repost_count, kept.posted_at) == (2**31 - 1, 0, None)
    assert sum(b.reads for b in batches) == len(mentions)
    reasons = batches[0].skipped
    assert f"tweet {first_page[0]}: no 'author_id'" in reasons and "tweet: no 'id'" in reasons
    assert "user: no 'id'" in reasons


def test_an_unexpected_error_in_a_client_becomes_invalid_data():
    class Broken(ChannelClient):
        platform = "broken"

        def pull(self, cursor):
            yield from ()
            raise TypeError("'NoneType' object is not subscriptable")

    client = Broken(SourceSettings(platform="broken", mode="m", target=""), transport=None)
    with pytest.raises(InvalidDataError, match=r"broken sent an answer that could not be read \(TypeError\)"):
        list(client.pull_safely({}))
