import logging
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged, warmup

from odoo.addons.social_crm_demo.fake_platforms import Reply

from ..channels import Author, Batch, Post
from .common import SocialCrmCase

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><guid>urn:x</guid><title>&xxe;</title></item></channel></rss>"""
NOW = datetime(2026, 11, 23, 10, 0)


@tagged("post_install", "-at_install")
class TestFeedSync(SocialCrmCase):

    def test_feed_becomes_conversations_identities_and_messages(self):
        source = self.make_source(self.make_blog("trips", count=3, comments=2), interval_minutes=20)
        with freeze_time(NOW):
            self.assertTrue(source.action_sync())

        self.assertRecordValues(
            source,
            [
                {
                    "state": "active",
                    "last_error": False,
                    "error_code": False,
                    "error_count": 0,
                    "last_pull_at": NOW,
                    "next_pull_at": NOW + timedelta(minutes=20),
                }
            ],
        )
        conversations = self.env["social.conversation"].search([("source_id", "=", source.id)])
        self.assertEqual(len(conversations), 3, "one conversation per blog entry")
        for conversation in conversations:
            self.assertEqual(conversation.post_count, 3, "the entry and its two comments")
            self.assertEqual(conversation.kind, "one_to_one_to_many")
            replies = conversation.post_ids - conversation.root_message_id
            self.assertEqual(replies.parent_id, conversation.root_message_id)
        entry = conversations.root_message_id.filtered(lambda m: m.title == "Field notes #2")
        self.assertIn("<b>tent</b>", entry.body, "HTML is kept, sanitized")
        self.assertEqual(entry.posted_at, datetime(2026, 11, 1, 11, 0))
        self.assertEqual(entry.author_id.email, "writer0@blogs.example")
        self.assertEqual(entry.author_id.message_count, 2, "writer 0 wrote entries 0 and 2")

    def test_pulling_twice_creates_nothing_new(self):
        source = self.make_source(self.make_blog("twice", count=4, comments=1))
        source.action_sync()
        counts = [
            self.env[model].search_count([]) for model in ("social.message", "social.conversation", "social.identity")
        ]
        cursor = source.cursor

        source.action_sync()
        self.assertEqual(
            [
                self.env[model].search_count([])
                for model in ("social.message", "social.conversation", "social.identity")
            ],
            counts,
        )
        self.assertEqual(source.state, "active")
        feed_requests = [r for r in self.site.requests if r.path == "/twice/feed"]
        self.assertEqual(
            feed_requests[-1].headers.get("if-none-match"), cursor["feed"]["etag"], "the second pull is conditional"
        )

    def test_changed_entry_is_updated_not_duplicated(self):
        url = self.make_blog("edits", count=2)
        source = self.make_source(url)
        source.action_sync()
        entry = self.site.blogs["edits"]["entries"][0]
        entry.body = "<p>Update: the stakes bent in frozen ground.</p>"
        entry.title = "Field notes, updated"

        source.action_sync()
        messages = self.messages_of(source)
        self.assertEqual(len(messages), 2)
        updated = messages.filtered(lambda m: m.title == "Field notes, updated")
        self.assertIn("stakes bent", updated.body_text)

    def test_a_re_pull_rewrites_only_what_changed_and_only_once(self):
        source = self.make_source(self.make_blog("rewrites", count=3))
        entries = {entry.title: entry for entry in self.site.blogs["rewrites"]["entries"]}

        def pull_at(moment):
            # write_date is the transaction's time, which a test's transaction keeps
            with patch.object(self.env.cr, "now", return_value=moment):
                source.action_sync()
                self.env.flush_all()
            return {message.title: message.write_date for message in self.messages_of(source)}

        first, second, third = datetime(2026, 11, 2), datetime(2026, 11, 3), datetime(2026, 11, 4)
        self.assertEqual(set(pull_at(first).values()), {first})
        entries["Field notes #0"].body = "<p>Update: the stakes bent in frozen ground.</p>"
        written = pull_at(second)
        self.assertEqual(
            written, {"Field notes #0": second, "Field notes #1": first, "Field notes #2": first}, "only #0 changed"
        )
        entries["Field notes #1"].title = "Field notes #1, corrected"
        written = pull_at(third)
        self.assertEqual(
            written,
            {"Field notes #0": second, "Field notes #1, corrected": third, "Field notes #2": first},
            "#0 was rewritten once, when it changed",
        )
        self.assertEqual(
            [r.headers.get("if-none-match") is None for r in self.site.requests if r.path == "/rewrites/feed"],
            [True, False, False],
            "the feed changed each time: its entries were read again, not answered 304",
        )

    def test_all_three_formats(self):
        for fmt, authors in (
            ("rss2", {"Writer 0": "writer0@blogs.example", "Reader 0": False}),
            ("rss1", {"Writer 0": False}),
            ("atom", {"Writer 0": "writer0@blogs.example", "Reader 0": False}),
        ):
            with self.subTest(fmt=fmt):
                comments = 1 if fmt != "rss1" else 0
                source = self.make_source(self.make_blog(f"fmt_{fmt}", count=2, comments=comments, fmt=fmt))
                source.action_sync()
                self.assertEqual(source.state, "active", source.last_error)
                messages = self.messages_of(source)
                roots = messages.filtered(lambda message: not message.parent_id)
                self.assertEqual(
                    sorted((root.title, root.posted_at, root.author_id.name) for root in roots),
                    [
                        ("Field notes #0", datetime(2026, 11, 1, 9, 0), "Writer 0"),
                        ("Field notes #1", datetime(2026, 11, 1, 10, 0), "Writer 0"),
                    ],
                )
                self.assertTrue(all("the <b>tent</b> held up" in root.body for root in roots))
                self.assertEqual({author.name: author.email for author in messages.author_id}, authors)
                replies = messages - roots
                self.assertEqual(len(replies), 2 * comments)
                for reply in replies:
                    self.assertEqual(reply.body_text, f"Reply 0 to report {reply.parent_id.title[-1]}.")
                    self.assertEqual(reply.conversation_id, reply.parent_id.conversation_id, "it joins its entry")
                    self.assertEqual(reply.posted_at, reply.parent_id.posted_at + timedelta(minutes=1))

    def test_messages_are_found_by_name(self):
        source = self.make_source(self.make_blog("named", count=3))
        source.action_sync()
        Message = self.env["social.message"]
        found = Message.name_search("notes #1", args=[("source_id", "=", source.id)])
        self.assertEqual([name for _id, name in found], ["Field notes #1"])
        by_name = Message.search([("source_id", "=", source.id), ("display_name", "ilike", "report 2")])
        self.assertEqual(by_name.mapped("title"), ["Field notes #2"], "the text the summary shows is searched")

    def test_reply_stored_before_its_parent_is_threaded_when_the_parent_arrives(self):
        source = self.make_source("http://127.0.0.1:1/unused")
        author = Author(external_id="mailto:ana@example.com", name="Ana")
        reply = Post(
            external_id="urn:reply",
            thread_key="urn:root",
            author_id=author.external_id,
            parent_id="urn:root",
            body_html="<p>me too</p>",
        )
        root = Post(external_id="urn:root", thread_key="urn:root", author_id=author.external_id, title="Root")
        source._store_batch(Batch(posts=(reply,), authors=(author,)))
        stored_reply = self.messages_of(source)
        self.assertFalse(stored_reply.parent_id)

        source._store_batch(Batch(posts=(root,), authors=(author,)))
        stored_root = self.messages_of(source) - stored_reply
        self.assertEqual(stored_reply.parent_id, stored_root)
        self.assertEqual(stored_reply.conversation_id, stored_root.conversation_id)
        self.assertEqual(stored_root.conversation_id.root_message_id, stored_root)


@tagged("post_install", "-at_install")
class TestFeedErrors(SocialCrmCase):
    """Bad input: a clear error on the source and in the log; what was
    stored before stays, unchanged, and the cursor does not move."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = cls.make_blog("fragile", count=3)
        cls.source = cls.make_source(cls.url)
        cls.source.action_sync()
        cls.stored = cls.source.conversation_ids.post_ids

    def assert_fails_keeping_data(self, reply, expected_text, code, source=None):
        source = source or self.source
        cursor = source.cursor
        self.site.script("/fragile/feed", reply)
        self.addCleanup(self.site.scripted.pop, "/fragile/feed", None)
        with self.assertLogs("odoo.addons.social_crm.models.social_source", logging.WARNING) as logs:
            source.action_sync()
        self.assertEqual(source.state, "error")
        self.assertEqual(source.error_code, code)
        self.assertIn(expected_text, source.last_error)
        self.assertIn(expected_text, "\n".join(logs.output))
        self.assertEqual(source.error_count, 1)
        self.assertEqual(source.cursor, cursor, "the cursor only moves after a stored batch")
        self.assertEqual(source.conversation_ids.post_ids, self.stored)
        self.assertTrue(all(message.body for message in self.stored), "nothing stored is lost")

    def test_not_a_feed(self):
        self.assert_fails_keeping_data(Reply(200, "Service Unavailable"), "not well-formed XML", "invalid_data")

    def test_an_ill_formed_feed_is_stored_and_the_entry_it_cut_off_said(self):
        """HTML entities and naked markup are read as a feed reader reads
        them; the entry the document ends in is skipped, and said."""
        source = self.make_source(f"{self.site.url}/ill-formed/feed")
        self.site.script(
            "/ill-formed/feed",
            Reply(
                200,
                '<rss version="2.0"><channel><title>Caf&eacute;</title>'
                "<item><guid>urn:ill:1</guid><title>Caf&eacute; news &mdash; today</title>"
                "<description>Open <b>late & early</description></item>"
                "<item><guid>urn:ill:2</guid><title>Cut",
            ),
        )
        with self.assertLogs("odoo.addons.social_crm.models.social_source", logging.WARNING):
            source.action_sync()
        self.assertEqual(source.state, "active", source.last_error)
        message = self.messages_of(source)
        self.assertEqual((message.external_id, message.title), ("urn:ill:1", "Café news — today"))
        self.assertIn("<b>late &amp; early</b>", message.body)
        self.assertIn("1 post skipped: entry: cut off where the document ends", source.last_notice)

    def test_xml_bomb(self):
        self.assert_fails_keeping_data(Reply(200, BOMB), "declares XML entities", "invalid_data")

    def test_external_entity_is_never_resolved(self):
        self.assert_fails_keeping_data(Reply(200, EXTERNAL_ENTITY), "declares XML entities", "invalid_data")
        self.assertNotIn("root:", self.source.last_error)

    def test_not_found(self):
        self.assert_fails_keeping_data(Reply(404, "gone"), "HTTP 404", "not_found")
        self.assertFalse(self.source.error_retryable)

    def test_server_error_is_retried_later_backing_off(self):
        interval = timedelta(minutes=self.source.interval_minutes)
        pulled = self.source.last_pull_at
        with freeze_time(NOW):
            self.assert_fails_keeping_data(Reply(500, "oops"), "HTTP 500", "unavailable")
        self.assertRecordValues(
            self.source,
            [{"error_retryable": True, "last_attempt_at": NOW, "last_pull_at": pulled, "next_pull_at": NOW + interval}],
        )
        later = NOW + interval
        with freeze_time(later), self.assertLogs("odoo.addons.social_crm.models.social_source", logging.WARNING):
            self.source.action_sync()
        self.assertRecordValues(
            self.source,
            [
                {
                    "state": "error",
                    "error_count": 2,
                    "last_attempt_at": later,
                    "last_pull_at": pulled,
                    "next_pull_at": later + 2 * interval,
                }
            ],
        )

    def test_oversize_feed(self):
        self.assert_fails_keeping_data(
            Reply(200, b"<rss>" + b" " * (6 * 1024 * 1024) + b"</rss>"), "refused", "invalid_data"
        )

    def test_non_http_url(self):
        with self.assertRaises(ValidationError) as refused:
            self.source.target = "file:///etc/passwd"
        self.assertIn("must be a web address starting with http:// or https://", str(refused.exception))
        self.assertEqual(self.source.conversation_ids.post_ids, self.stored)

    def test_loopback_refused_unless_the_source_is_local(self):
        self.source.local_network = False
        requests_before = len(self.site.requests)
        with self.assertLogs("odoo.addons.social_crm.models.social_source", logging.WARNING):
            self.source.action_sync()
        self.assertEqual(self.source.error_code, "config")
        self.assertIn("non-public address 127.0.0.1", self.source.last_error)
        self.assertEqual(len(self.site.requests), requests_before, "no request left the machine's policy")

    def test_recovery_clears_the_error(self):
        self.assert_fails_keeping_data(Reply(503, "busy"), "HTTP 503", "unavailable")
        self.site.scripted.pop("/fragile/feed")
        self.source.action_sync()
        self.assertEqual(self.source.state, "active")
        self.assertFalse(self.source.last_error)
        self.assertEqual(self.source.error_count, 0)


@tagged("post_install", "-at_install", "is_query_count")
class TestFeedSyncQueryCount(SocialCrmCase):

    def count_queries(self, url):
        return self.sync_queries(self.make_source(url))

    def test_query_count_does_not_grow_with_the_feed(self):
        self.count_queries(self.make_blog("warmup", count=5))  # warm the registry's caches
        small = self.count_queries(self.make_blog("small", count=10))
        large = self.count_queries(self.make_blog("large", count=200))
        self.assertEqual(
            len(self.env["social.message"].search([("conversation_id.source_id.target", "like", "/large/")])), 200
        )
        # Odoo writes at most 100 rows per INSERT or UPDATE: 190 more entries
        # cost one more statement for each table and stored field group a pull
        # writes, never one per entry (that would be 190 more)
        self.assertLessEqual(abs(large - small), 6, f"10 entries: {small} queries, 200 entries: {large} queries")

    def assert_pull_queries(self, name, count, queries):
        """Counts include the sentiment roll-ups of the threads and authors
        a batch touches (one grouped query each)."""
        source = self.make_source(self.make_blog(name, count=count))
        with self.assertQueryCount(queries):
            source._sync()
        self.assertEqual(len(self.messages_of(source)), count)

    @warmup
    def test_query_count_of_a_pull_of_10_entries(self):
        self.assert_pull_queries("pinned_small", 10, 27)

    @warmup
    def test_query_count_of_a_pull_of_200_entries(self):
        self.assert_pull_queries("pinned_large", 200, 31)
