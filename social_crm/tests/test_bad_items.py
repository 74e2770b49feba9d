"""One malformed item does not cost its page, nor stop the source: an X pull
of 7 pages whose last page holds the bad tweet stores the 6 good pages and
the good tweets of page 7, counts every read X billed, stays active, moves
its cursor on and says what it skipped. Odd values (counts out of range,
dates that overflow, invalid UTF-8, ``javascript:`` links, fields of the
wrong type, tracking pixels) are coerced, never stored as junk."""

from datetime import datetime, timezone

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import MastodonApi, XApi
from odoo.addons.social_crm_demo.fake_platforms.x_api import DROP

from ..models.platforms import CREDENTIAL_FIELDS
from .test_platform_sync import MASTODON_TOKEN, SOURCE_LOGGER, PlatformSyncCase

NOW = datetime(2026, 11, 23, 10, 0)
PAGES = 7
INT4_MAX = 2**31 - 1


@tagged("post_install", "-at_install")
class TestXBadItemOnTheLastPage(PlatformSyncCase):
    """55 mentions of @acme served in 7 pages; the bad tweet is on page 7."""

    def setUp(self):
        super().setUp()
        self.api = self.serve(XApi.generate(posts=60, authors=12, threads=8, seed=3))
        # the oldest mention, which no tweet references: it comes on page 7 only
        someone = next(user_id for user_id in self.api.users if user_id != self.api.account)
        oldest = datetime(2026, 11, 1, tzinfo=timezone.utc)
        self.bad = self.api.add_tweet(someone, "@acme is the shop open?", created_at=oldest)["id"]
        self.mentions = [tweet["id"] for tweet in self.api.mentions_of(self.api.account)]
        self.api.page_cap = -(-len(self.mentions) // PAGES)
        self.assertIn(self.bad, self.mentions[(PAGES - 1) * self.api.page_cap :])
        self.source = self.make_platform_source(
            "x",
            "mentions",
            f"{self.api.url}/2",
            self.api.account,
            max_items=1000,
            read_budget=10000,
            **{CREDENTIAL_FIELDS["x"]["bearer_token"]: self.api.bearer_token},
        )

    def pulled_pages(self):
        return [r for r in self.api.requests if r.path == f"/2/users/{self.api.account}/mentions"]

    def pull(self):
        with freeze_time(NOW):
            return self.sync(self.source)

    def assert_moved_on(self):
        """Every read counted, the cursor past the newest tweet, and the next
        pull asks only for what is newer."""
        newest = max(self.mentions, key=lambda i: (len(i), i))
        self.assertEqual(len(self.pulled_pages()), PAGES)
        self.assertRecordValues(
            self.source, [{"state": "active", "last_error": False, "reads_this_month": len(self.mentions)}]
        )
        self.assertEqual(self.source.cursor, {"since_id": newest, "user_id": self.api.account})
        self.api.requests.clear()
        with freeze_time(NOW):
            self.assertTrue(self.sync(self.source))
        self.assertEqual([r.param("since_id") for r in self.api.requests], [newest])
        self.assertFalse(self.source.last_notice, "a clean pull clears the notice")

    def assert_skipped(self, why):
        with self.assertLogs(SOURCE_LOGGER, "WARNING"):
            self.assertTrue(self.pull())
        stored = self.stored(self.source)
        self.assertLessEqual(set(self.mentions) - {self.bad}, set(stored), "6 good pages and the rest of page 7")
        self.assertNotIn(self.bad, stored)
        self.assertEqual(self.source.last_notice, f"1 post skipped: tweet {self.bad}: {why}")
        self.assert_moved_on()

    def test_a_tweet_without_author_id_is_skipped_and_counted(self):
        self.api.alter(self.bad, author_id=DROP)
        self.assert_skipped("no 'author_id'")

    def test_a_tweet_with_a_null_id_is_skipped_and_counted(self):
        self.api.alter(self.bad, id=None)
        with self.assertLogs(SOURCE_LOGGER, "WARNING"):
            self.assertTrue(self.pull())
        self.assertLessEqual(set(self.mentions) - {self.bad}, set(self.stored(self.source)))
        self.assertEqual(self.source.last_notice, "1 post skipped: tweet: no 'id'")
        self.assert_moved_on()

    def test_out_of_range_values_are_coerced_and_the_tweet_kept(self):
        author = self.api.tweets[self.bad]["author_id"]
        self.api.alter(
            self.bad,
            public_metrics={"like_count": 2**40, "retweet_count": -5, "reply_count": "7"},
            created_at="0001-01-01T00:00:00+05:00",
            lang={"a": 1},
            text="caf\udce9 BADUTF8 ok",
        )
        self.api.raw["BADUTF8"] = b"\xff\xfe"
        self.api.alter(author, profile_image_url="javascript:alert(1)", description={"a": 1})
        self.assertTrue(self.pull())

        message = self.stored(self.source)[self.bad]
        self.assertRecordValues(
            message,
            [{"like_count": INT4_MAX, "repost_count": 0, "reply_count": 0, "posted_at": False, "language": False}],
        )
        self.assertIn("caf\ufffd \ufffd\ufffd ok", message.body)
        self.assertRecordValues(message.author_id, [{"avatar_url": False, "bio": False}])
        self.assertFalse(self.source.last_notice)
        self.assert_moved_on()

    def test_a_page_nested_too_deeply_keeps_the_pages_before_and_their_reads(self):
        self.api.alter(self.bad, text="DEEPNEST")
        self.api.raw['"DEEPNEST"'] = b"[" * 100000 + b"]" * 100000
        self.sync_failing(self.source)

        page_cap = self.api.page_cap
        self.assert_failed(self.source, "invalid_data", "malformed JSON (nested too deeply)")
        self.assertNotIn("Unexpected", self.source.last_error)
        self.assertLessEqual(set(self.mentions[: (PAGES - 1) * page_cap]), set(self.stored(self.source)))
        self.assertEqual(self.source.reads_this_month, (PAGES - 1) * page_cap, "the 6 stored pages' reads")
        self.assertTrue(self.source.cursor["next_token"], "the next pull asks for page 7 again, nothing before")


@tagged("post_install", "-at_install")
class TestMastodonBadItems(PlatformSyncCase):
    """A hashtag page with a status whose id is null among good ones, and a
    status whose fields are of the wrong type or unsafe."""

    def setUp(self):
        super().setUp()
        self.api = self.serve(MastodonApi(token=MASTODON_TOKEN))
        self.jo = self.api.add_account("jo", "Jo Camper", domain="mastodon.social", followers=321)
        self.source = self.make_platform_source(
            "mastodon", "hashtag", self.api.url, "#tentworks", access_token=MASTODON_TOKEN
        )

    def key(self, status):
        return f"127.0.0.1:{self.api.port}:{status.id}"

    def test_a_status_with_a_null_id_is_skipped_the_others_stored(self):
        good, bad, other = (self.api.post(self.jo, f"Tent test {n}", tag="tentworks") for n in range(3))
        self.api.alter_status(bad, id=None)
        with self.assertLogs(SOURCE_LOGGER, "WARNING"):
            self.assertTrue(self.sync(self.source))
        self.assertEqual(set(self.stored(self.source)), {self.key(good), self.key(other)})
        self.assertEqual(self.source.state, "active")
        self.assertRegex(self.source.last_notice, r"^1 post skipped: status: .* sent a status without 'id'$")

    def test_wrong_types_and_unsafe_links_are_not_stored(self):
        status = self.api.post(self.jo, "Rain test", tag="tentworks")
        self.api.alter_status(
            status,
            account={"avatar": "javascript:alert(1)", "url": "javascript:alert(2)", "followers_count": 2**40},
            url="javascript:alert(3)",
            uri="javascript:alert(4)",
            spoiler_text={"a": 1},
            favourites_count=2**40,
            reblogs_count=-1,
            content='<p>Dry\x0b inside <img src="https://pixel.example/open.gif?u=42" alt="photo"></p>',
        )
        self.assertTrue(self.sync(self.source))
        message = self.stored(self.source)[self.key(status)]
        self.assertRecordValues(
            message, [{"title": False, "url": False, "like_count": INT4_MAX, "repost_count": 0}]
        )
        self.assertNotIn("Unknown error", message.body, "a control character does not cost the body")
        self.assertIn("Dry inside", message.body)
        self.assertNotIn("<img", message.body, "no remote image loads when the message is opened")
        self.assertIn('href="https://pixel.example/open.gif?u=42"', message.body)
        self.assertIn("[photo]", message.body)
        self.assertRecordValues(
            message.author_id, [{"avatar_url": False, "profile_url": False, "follower_count": INT4_MAX}]
        )
