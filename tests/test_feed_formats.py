"""Feeds as publishers really write them (``tests/fixtures/feeds/``, listed
in its README): every format and variant a feed reader shows, ill-formed
XML, HTML entities, inline markup, relative links, encodings, entries
without id and dates out of range. Each feed is served over HTTP on
127.0.0.1 and pulled by the feed client, as a source would."""

import io
import os
import pathlib
import socket
import sys
from datetime import datetime

import feedparser
import pytest

from channels import InvalidDataError, SourceSettings, client_for
from channels.feeds import FeedDocument
from fake_platforms.server import Reply

pytest_plugins = ["loopback_fixtures"]

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "feeds"


def serve(site, name, content_type="application/xml", path=None):
    """Serve fixture ``name`` at ``/<path or name>``, ``{site}`` replaced by
    the site's URL; returns that URL."""
    path = path or f"/{name}"
    content = (FIXTURES / name).read_bytes().replace(b"{site}", site.url.encode())
    site.script(path, Reply(200, content, {"Content-Type": content_type}))
    return f"{site.url}{path}"


def pull(url, cursor=None):
    return list(client_for(SourceSettings("feed", "feed", url, allow_local=True)).pull(cursor))


def read(site, name, content_type="application/xml"):
    """The first batch of a pull of fixture ``name``, its authors by id."""
    batch = pull(serve(site, name, content_type))[0]
    return batch, {author.external_id: author for author in batch.authors}


def rows(batch, authors, site):
    """``(external id, title, url, posted_at, author name, author email)``
    per post, the site's URL written ``{site}``."""
    return [
        tuple(
            value.replace(site.url, "{site}") if isinstance(value, str) else value
            for value in (
                post.external_id,
                post.title,
                post.url,
                post.posted_at,
                authors[post.author_id].name,
                authors[post.author_id].email,
            )
        )
        for post in batch.posts
    ]


@pytest.mark.parametrize(
    "name, expected",
    [
        pytest.param(
            "rss090.rdf",
            [
                ("http://www.mozilla.org/status/", "New Status Updates", "http://www.mozilla.org/status/", None),
                ("http://www.mozilla.org/bugs/", "Bugzilla Reorganized", "http://www.mozilla.org/bugs/", None),
            ],
            id="RSS 0.90",
        ),
        pytest.param(
            "rss091_netscape.xml",
            [
                (
                    "http://journal.example/2026/11/cafe.html",
                    "Café news",
                    "http://journal.example/2026/11/cafe.html",
                    None,
                ),
                (
                    "http://journal.example/2026/11/marche.html",
                    "Marché du samedi",
                    "http://journal.example/2026/11/marche.html",
                    None,
                ),
            ],
            id="RSS 0.91 with the Netscape DOCTYPE and HTML entities",
        ),
        pytest.param(
            "rss092.xml",
            [
                ("{site}/rss092.xml#sha256:450d1364265fb60a90e73828162f610f", "", "", None),
                ("http://scripting.example/audio/conf.mp3", "", "", None),
                ("{site}/rss092.xml#sha256:2c7ae2dc1488c9b6ef43009702590d32", "Radio UserLand 8.0.9", "", None),
            ],
            id="RSS 0.92 items with a description only",
        ),
        pytest.param(
            "rss1_dcterms.rdf",
            [
                (
                    "http://library.example/news/2026/11/hours.html",
                    "Winter opening hours",
                    "http://library.example/news/2026/11/hours.html",
                    datetime(2026, 11, 2, 7, 0),
                ),
                (
                    "http://library.example/news/2026/10/ebooks.html",
                    "E-books on loan",
                    "http://library.example/news/2026/10/ebooks.html",
                    datetime(2026, 10, 20, 12, 0),
                ),
            ],
            id="RSS 1.0 with dcterms:issued and dcterms:modified",
        ),
        pytest.param(
            "rss2_default_namespace.xml",
            [
                (
                    "http://notes.example/2026/11/02#a1",
                    "Outlines everywhere",
                    "http://notes.example/2026/11/02#a1",
                    datetime(2026, 11, 2, 14, 0),
                )
            ],
            id="RSS 2.0 under a default namespace",
        ),
        pytest.param(
            "atom03.xml",
            [
                (
                    "tag:diveinto.example,2004:3.2397",
                    "Atom 0.3 <em>snapshot</em>",  # mode="escaped" text/plain: the markup is the title's text
                    "{site}/archives/2004/05/13/snapshot",
                    datetime(2004, 5, 13, 18, 30, 2),
                ),
                (
                    "tag:diveinto.example,2004:3.2396",
                    "No issued date",
                    "http://diveinto.example/archives/2004/05/12/other",
                    datetime(2004, 5, 12, 9, 0),
                ),
            ],
            id="Atom 0.3",
        ),
        pytest.param(
            "channel.cdf",
            [
                (
                    "http://news.example/2026/11/02/harbour.html",
                    "Harbour reopens",
                    "http://news.example/2026/11/02/harbour.html",
                    datetime(2026, 11, 2, 8, 30),
                ),
                (
                    "http://news.example/2026/11/01/market.html",
                    "Market day moved",
                    "http://news.example/2026/11/01/market.html",
                    datetime(2026, 11, 1, 17, 0),
                ),
            ],
            id="CDF",
        ),
    ],
)
def test_every_format_gives_its_entries(site, name, expected):
    batch, authors = read(site, name)
    assert [row[:4] for row in rows(batch, authors, site)] == expected
    assert batch.skipped == ()


def test_atom_03_base64_content_is_decoded_and_its_links_resolved(site):
    batch, _authors = read(site, "atom03.xml")
    assert batch.posts[0].body_html == (
        f'<p>Hello <b>world</b>, the wiki moved to <a href="{site.url}/wiki/">/wiki</a>.</p>'
    )


def test_wordpress_post_and_its_comments_feed_make_one_thread(site):
    url = serve(site, "wordpress_rss2.xml", "application/rss+xml; charset=UTF-8", path="/wordpress/feed/")
    serve(site, "wordpress_comments_rss2.xml", path="/wordpress/2026/11/03/crossing-the-ridge/feed/")
    feed, comments = pull(url)
    authors = {author.external_id: author for author in feed.authors}
    assert rows(feed, authors, site) == [
        (
            "{site}/wordpress/?p=1042",
            "Crossing the ridge – day two",
            "{site}/wordpress/2026/11/03/crossing-the-ridge/",
            datetime(2026, 11, 3, 8, 15, 2),
            "Ana Lima",
            "",
        ),
        (
            "{site}/wordpress/?p=1030",
            "Packing list, revised",
            "{site}/wordpress/2026/11/01/packing-list/",
            datetime(2026, 11, 1, 19, 0),
            "Bo Chen",
            "",
        ),
    ]
    post = feed.posts[0]
    assert post.reply_count == 2, "slash:comments"
    assert f'<a href="{site.url}/wordpress/2026/11/04/descent/">descent</a>' in post.body_html, "a relative link"
    assert [(p.external_id, p.thread_key, p.parent_id) for p in comments.posts] == [
        (f"{site.url}/wordpress/?p=1042#comment-{n}", post.external_id, post.external_id) for n in (77, 78)
    ]


def test_blogger_follows_the_comments_feed_not_the_comment_form(site):
    url = serve(site, "blogger_atom.xml", "application/atom+xml; charset=UTF-8")
    serve(site, "blogger_comments_atom.xml", path="/blogger/feeds/5561/comments/default")
    feed, comments = pull(url)
    entry = feed.posts[0]
    assert (entry.title, entry.reply_count, entry.posted_at) == ("Rye, again", 3, datetime(2026, 11, 2, 17, 20))
    author = feed.authors[0]
    assert (author.external_id, author.name, author.email) == (
        "http://www.blogger.com/profile/0411",
        "Dee",
        "noreply@blogger.com",
    )
    assert list(feed.cursor["comments"]) == [f"{site.url}/blogger/feeds/5561/comments/default"]
    assert [(p.title, p.thread_key, p.parent_id) for p in comments.posts] == [
        ("How long did you proof it?", entry.external_id, entry.external_id)
    ]


@pytest.mark.parametrize(
    "name, expected",
    [
        pytest.param(
            "medium_rss.xml",
            [
                (
                    "https://medium.com/p/3b2c1d",
                    "Why our CRM reads feeds",
                    "https://medium.com/@janeroe/why-our-crm-reads-feeds-3b2c1d?source=rss-7f1e------2",
                    datetime(2026, 11, 2, 11, 58, 41),
                    "Jane Roe",
                    "",
                )
            ],
            id="Medium",
        ),
        pytest.param(
            "discourse_topic.rss",
            [
                (
                    "{site}/discourse_topic.rss#forum.example-post-812-2",
                    "Sync stops after upgrade",
                    "{site}/discourse/t/sync-stops-after-upgrade/812/2",
                    datetime(2026, 11, 2, 14, 31, 12),
                    "mira",
                    "",
                ),
                (
                    "{site}/discourse_topic.rss#forum.example-post-812-1",
                    "Sync stops after upgrade",
                    "{site}/discourse/t/sync-stops-after-upgrade/812/1",
                    datetime(2026, 11, 2, 14, 0),
                    "system",
                    "",
                ),
            ],
            id="Discourse",
        ),
        pytest.param(
            "phpbb_atom.xml",
            [
                (
                    "{site}/phpbb/viewtopic.php?p=4242#p4242",
                    "Routes • Re: Gravel near the lake",
                    "{site}/phpbb/viewtopic.php?p=4242#p4242",
                    datetime(2026, 11, 2, 20, 14, 9),
                    "kaz",
                    "",
                ),
                (
                    "{site}/phpbb/viewtopic.php?p=4240#p4240",
                    "Routes • Gravel near the lake",
                    "{site}/phpbb/viewtopic.php?p=4240#p4240",
                    datetime(2026, 11, 1, 9, 0),
                    "lou",
                    "",
                ),
            ],
            id="phpBB",
        ),
        pytest.param(
            "youtube_atom.xml",
            [
                (
                    "yt:video:dQw4w9WgXcQ",
                    "Truing a wheel in 5 minutes",
                    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                    datetime(2026, 11, 2, 16, 0, 6),
                    "Workshop Tips",
                    "",
                )
            ],
            id="YouTube",
        ),
        pytest.param(
            "reddit_atom.xml",
            [
                (
                    "{site}/t3_1q2w3e",  # a relative Atom id, read against the document as feedparser does
                    "Which feed reader handles broken feeds best?",
                    "https://www.reddit.com/r/selfhosted/comments/1q2w3e/which_feed_reader/",
                    datetime(2026, 11, 2, 17, 21, 44),
                    "/u/quiet_fox",
                    "",
                )
            ],
            id="Reddit",
        ),
        pytest.param(
            "github_releases_atom.xml",
            [
                (
                    "tag:github.com,2008:Repository/48151623/v2.4.1",
                    "v2.4.1",
                    "https://github.com/acme/synctool/releases/tag/v2.4.1",
                    datetime(2026, 11, 2, 10, 47, 12),
                    "octo-dev",
                    "",
                )
            ],
            id="GitHub releases",
        ),
        pytest.param(
            "podcast_itunes.rss",
            [
                (
                    "{site}/podcast_itunes.rss#3f9a6c1e-42aa-4c1e-9d5b-2a1f0c7e8b42",
                    "Ep. 42: Answering every review",
                    "https://shoptalk.example/42",
                    datetime(2026, 11, 2, 5, 0),
                    "Rae Kim",
                    "",
                ),
                (
                    "https://media.example-host.fm/shop-talk/41.mp3",  # no guid, no link: known by its enclosure
                    "Ep. 41: Trailer for season 3",
                    "",
                    datetime(2026, 10, 26, 5, 0),
                    "Rae Kim",  # the channel's itunes:author
                    "",
                ),
            ],
            id="podcast with iTunes tags",
        ),
        pytest.param(
            "hgweb_rss.xml",
            [
                (
                    "https://hg.example/synctool/rev/4c1b2a",
                    "feeds: read every entry",
                    "https://hg.example/synctool/rev/4c1b2a",
                    datetime(2026, 11, 2, 15, 4, 5),
                    "Nia Obi",
                    "nia@synctool.example",
                ),
                (
                    "https://hg.example/synctool/rev/9e8d7c",
                    "transport: cap bodies",
                    "https://hg.example/synctool/rev/9e8d7c",  # guid isPermaLink, no link
                    datetime(2026, 11, 1, 11, 0),
                    "Tom Ruiz",
                    "tom@synctool.example",
                ),
            ],
            id="Mercurial hgweb: Name <email> and email (Name) authors",
        ),
    ],
)
def test_publishers_feeds_give_every_entry_with_its_fields(site, name, expected):
    batch, authors = read(site, name)
    assert rows(batch, authors, site) == expected
    assert batch.skipped == ()


def test_reddit_and_youtube_authors_are_profiles(site):
    for name, profile in (
        ("reddit_atom.xml", "https://www.reddit.com/user/quiet_fox"),
        ("youtube_atom.xml", "https://www.youtube.com/channel/UCq9x1"),
    ):
        batch, _authors = read(site, name)
        assert [(a.external_id, a.profile_url) for a in batch.authors] == [(profile, profile)]


def test_relative_links_and_images_are_read_against_xml_base_or_the_document(site):
    phpbb, _authors = read(site, "phpbb_atom.xml")
    assert f'src="{site.url}/phpbb/images/smilies/icon_e_smile.gif"' in phpbb.posts[0].body_html
    assert f'href="{site.url}/phpbb/viewtopic.php?t=40"' in phpbb.posts[0].body_html
    discourse, _authors = read(site, "discourse_topic.rss")
    assert f'<img src="{site.url}/discourse/uploads/default/original/2X/a/ab12.png"' in discourse.posts[0].body_html
    jekyll, _authors = read(site, "xhtml_atom.xml")
    [post] = jekyll.posts
    assert post.url == f"{site.url}/jekyll/2026/11/02/drawing.html"
    assert f'<a href="{site.url}/jekyll/2026/11/02/sketch.svg">sketch</a>' in post.body_html
    assert f'src="{site.url}/jekyll/assets/sketch.png"' in post.body_html


def test_titles_keep_their_whole_text(site):
    """Entities, comments and inline markup inside a title are read, not
    cut at the first of them."""
    entities, _authors = read(site, "html_entities.xml")
    assert [post.title for post in entities.posts] == ["Café news — week 45", "Hello world"]
    assert entities.posts[0].body_html.startswith("The new roast is <b>darker</b> &amp; smoother… ")
    assert entities.authors[0].name == "Zóe"
    jekyll, _authors = read(site, "xhtml_atom.xml")
    assert jekyll.posts[0].title == "Drawing with code"
    netscape, _authors = read(site, "rss091_netscape.xml")
    assert netscape.posts[0].body_html == "Le café de la place rouvre\xa0lundi — <b>enfin</b>."


def test_an_unescaped_ampersand_is_read_as_feed_readers_read_it(site):
    batch, _authors = read(site, "unescaped_ampersand.xml")
    assert [(post.title, post.url) for post in batch.posts] == [
        ("Salt & pepper mills, 2 for 1", "http://deals.example/item?id=77&ref=rss"),
        ("Tea towels", "http://deals.example/item?id=78&ref=rss"),
    ]
    assert batch.posts[0].body_html == "Grind & season. Was <s>$30</s> now $15 &lt;3"


@pytest.mark.parametrize(
    "name, content_type, title",
    [
        pytest.param(
            "windows1252.xml", "application/rss+xml; charset=windows-1252", "“Quoted” – café", id="HTTP charset"
        ),
        pytest.param("utf8_bom.xml", "application/rss+xml", "Été — summer", id="UTF-8 BOM"),
        pytest.param("utf16.xml", "text/xml", "新しい投稿", id="UTF-16 with its XML declaration"),
        pytest.param("utf16.xml", "application/xml; charset=utf-16", "新しい投稿", id="UTF-16 with its charset"),
        pytest.param("bad_utf8_byte.xml", "application/rss+xml; charset=UTF-8", "Crème brûlée", id="a bad byte"),
    ],
)
def test_encodings_are_read_from_the_header_the_bom_and_the_declaration(site, name, content_type, title):
    batch, _authors = read(site, name, content_type)
    assert [post.title for post in batch.posts] == [title]
    assert not any("\x80" <= char <= "\x9f" for post in batch.posts for char in post.title + post.body_html)


def test_a_bad_byte_in_utf8_costs_that_byte_only(site):
    batch, _authors = read(site, "bad_utf8_byte.xml", "application/rss+xml; charset=UTF-8")
    assert batch.posts[0].body_html == "Sweet — résumé of dessert: caf\ufffd"


def test_entries_without_id_or_link_get_an_id_from_what_they_say_the_same_on_every_pull(site):
    url = serve(site, "idless_items.xml")
    first, second = pull(url)[0], pull(url)[0]
    assert [post.title for post in first.posts] == ["Choir practice moved", "Harvest supper", ""]
    assert first.skipped == ()
    ids = [post.external_id for post in first.posts]
    assert ids == [post.external_id for post in second.posts]
    assert len(set(ids)) == 3 and all(id_.startswith(f"{url}#sha256:") for id_ in ids)


def test_dates_out_of_range_are_unknown_and_the_entries_kept(site):
    batch, _authors = read(site, "extreme_dates.xml")
    assert [(post.title, post.posted_at) for post in batch.posts] == [
        ("Recurring: forever", None),
        ("Imported without a date", None),
        ("An ordinary day", datetime(2026, 11, 2, 8, 15)),
    ]
    assert batch.skipped == ()


def test_an_ill_formed_feed_with_entries_is_read_the_rest_of_the_feed_kept(site):
    site.script(
        "/feed",
        Reply(
            200,
            '<rss version="2.0"><channel><title>Hand-made</title>'
            "<item><guid>urn:1</guid><title>Naked</title><description>Some <b>bold<br> text</description></item>"
            "<item><guid>urn:2</guid><title>Fine</title></item></channel></rss>",
        ),
    )
    [batch] = pull(f"{site.url}/feed")
    assert [(post.external_id, post.title, post.body_html) for post in batch.posts] == [
        ("urn:1", "Naked", "Some <b>bold<br> text"),
        ("urn:2", "Fine", ""),
    ]


# ----------------------------------------------------------------------
# feedparser reads bytes only: no URL, no file, no entity
# ----------------------------------------------------------------------


class Watch:
    """Files opened and network calls made while ``active``, seen by a
    Python audit hook (a hook cannot be removed: one for the session)."""

    active = False
    events = []

    @classmethod
    def hook(cls, event, args):
        if cls.active and event in ("open", "socket.connect", "socket.getaddrinfo", "urllib.Request"):
            cls.events.append((event, os.fsdecode(args[0]) if isinstance(args[0], bytes) else str(args[0])))

    def __enter__(self):
        Watch.events, Watch.active = [], True
        return Watch.events

    def __exit__(self, *exc):
        Watch.active = False


sys.addaudithook(Watch.hook)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param('<!DOCTYPE rss SYSTEM "{file}"><rss version="2.0"><channel/></rss>', id="external DTD, a file"),
        pytest.param('<!DOCTYPE rss SYSTEM "{site}/evil.dtd"><rss version="2.0"><channel/></rss>', id="external DTD"),
        pytest.param(
            '<?xml-stylesheet type="text/xsl" href="{site}/evil.xsl"?><rss version="2.0"><channel/></rss>',
            id="stylesheet",
        ),
        pytest.param(
            '<rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude"><channel><item><guid>urn:1</guid>'
            '<description><xi:include href="{file}" parse="text"/></description></item></channel></rss>',
            id="XInclude",
        ),
        pytest.param("{file}", id="a body that is a file's path"),
        pytest.param("{site}/evil.xml", id="a body that is a URL"),
    ],
)
def test_feedparser_opens_no_file_and_no_connection(site, tmp_path, document):
    secret = tmp_path / "passwd"
    secret.write_text("root-canary:x:0:0")
    content = document.replace("{file}", secret.as_uri() if "<" in document else str(secret))
    content = content.replace("{site}", site.url).encode()
    with Watch() as events:
        try:
            document = FeedDocument(content, f"{site.url}/feed", "application/xml")
            text = repr([dict(entry) for entry in document.items])
        except InvalidDataError as error:
            text = error.message
    assert not events and "canary" not in text
    assert site.requests == []


def test_feedparser_given_bytes_as_they_are_would_read_a_file(tmp_path):
    """Why feedparser gets a stream: handed ``bytes``, it first tries them as
    a file name."""
    secret = tmp_path / "feed.xml"
    secret.write_text('<rss version="2.0"><channel><title>from the disk</title></channel></rss>')
    with Watch() as events:
        assert feedparser.parse(str(secret).encode()).feed.title == "from the disk"
    assert ("open", str(secret)) in events, "the audit hook sees what the tests above say is not done"
    with Watch() as events:
        assert feedparser.parse(io.BytesIO(str(secret).encode())).feed.get("title") is None
    assert not events


def test_entities_declared_in_utf16_are_refused_too(site):
    bomb = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]><rss version="2.0"/>'
    site.script("/feed", Reply(200, bomb.encode("utf-16"), {"Content-Type": "application/xml"}))
    with pytest.raises(InvalidDataError, match="declares XML entities"):
        pull(f"{site.url}/feed")


def test_entities_declared_after_a_comment_that_looks_like_an_element_are_refused(site):
    bomb = '<!-- <rss> --><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]><rss version="2.0"><channel/></rss>'
    site.script("/feed", Reply(200, bomb))
    with pytest.raises(InvalidDataError, match="declares XML entities"):
        pull(f"{site.url}/feed")


def test_a_post_quoting_an_entity_declaration_in_cdata_is_read(site):
    site.script(
        "/feed",
        Reply(
            200,
            '<rss version="2.0"><channel><item><guid>urn:xxe</guid><title>XXE explained</title>'
            '<description><![CDATA[<pre>&lt;!ENTITY xxe SYSTEM "file:///etc/passwd"&gt;</pre>'
            '<code><!ENTITY a "b"></code>]]></description></item></channel></rss>',
        ),
    )
    [batch] = pull(f"{site.url}/feed")
    assert [post.title for post in batch.posts] == ["XXE explained"]


def test_no_socket_is_opened_by_the_parsing_of_a_pull(site, monkeypatch):
    """The one connection of a pull is our transport's."""
    url = serve(site, "rss091_netscape.xml")
    connects = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        connects.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    pull(url)
    assert connects == [("127.0.0.1", site.port)]
