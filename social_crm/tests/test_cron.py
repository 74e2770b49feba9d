from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, get_db_name, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.social_crm_demo.fake_platforms import FeedSite, Reply, sample_entries

from .common import SocialCrmCase

NOW = datetime(2026, 11, 23, 10, 0)
SOURCE_LOGGER = "odoo.addons.social_crm.models.social_source"


@tagged("post_install", "-at_install")
class TestCronSyncDue(SocialCrmCase):
    """The cron pulls the sources that are due, stores each failure on its
    source with the next allowed pull, and never lets one source stop the
    others."""

    def setUp(self):
        super().setUp()
        self.site.requests.clear()
        self.site.scripted.clear()

    def run_cron(self, at, **kwargs):
        # failures are logged as warnings by design, which the tests check on
        # the sources; an unexpected failure (logged as an error) fails them
        with freeze_time(at), self.assertNoLogs(SOURCE_LOGGER, "ERROR"):
            self.env["social.source"]._cron_sync_due(**kwargs)

    def pulled_blogs(self):
        """Names of the blogs whose main feed was requested, in order."""
        return [request.path.split("/")[1] for request in self.site.requests if request.path.endswith("/feed")]

    def test_pulls_only_due_sources(self):
        due_states = {
            "never-pulled": {},
            "due": {"next_pull_at": NOW - timedelta(minutes=1)},
            "due-now": {"next_pull_at": NOW},
            "not-yet": {"next_pull_at": NOW + timedelta(minutes=1)},
            "paused": {"state": "paused"},
            "dead": {
                "state": "error",
                "error_code": "not_found",
                "error_count": 1,
                "next_pull_at": NOW - timedelta(hours=1),
            },
            "flaky-ready": {
                "state": "error",
                "error_code": "unavailable",
                "error_count": 2,
                "last_error": "down",
                "next_pull_at": NOW - timedelta(minutes=1),
            },
            "flaky-waiting": {
                "state": "error",
                "error_code": "unavailable",
                "error_count": 2,
                "next_pull_at": NOW + timedelta(minutes=1),
            },
        }
        sources = {
            name: self.make_source(self.make_blog(name, count=1), name=name, **values)
            for name, values in due_states.items()
        }
        self.run_cron(NOW)
        pulled = {"never-pulled", "due", "due-now", "flaky-ready"}
        self.assertEqual(set(self.pulled_blogs()), pulled)
        for name, source in sources.items():
            with self.subTest(source=name):
                self.assertEqual(len(self.messages_of(source)), 1 if name in pulled else 0)
                self.assertEqual(source.last_pull_at, NOW if name in pulled else False)
        self.assertRecordValues(
            sources["flaky-ready"],
            [
                {
                    "state": "active",
                    "error_code": False,
                    "error_count": 0,
                    "error_retryable": False,
                    "last_error": False,
                    "next_pull_at": NOW + timedelta(minutes=15),
                }
            ],
        )
        self.assertRecordValues(
            sources["paused"] | sources["dead"],
            [{"state": "paused", "next_pull_at": False}, {"state": "error", "next_pull_at": NOW - timedelta(hours=1)}],
        )

    def test_success_sets_next_pull_from_interval(self):
        source = self.make_source(self.make_blog("hourly", count=2), interval_minutes=60)
        self.run_cron(NOW)
        self.assertRecordValues(
            source,
            [{"state": "active", "last_pull_at": NOW, "next_pull_at": NOW + timedelta(hours=1), "error_count": 0}],
        )
        self.run_cron(NOW + timedelta(minutes=59))
        self.assertEqual(self.pulled_blogs(), ["hourly"], "not due again before its interval")
        self.run_cron(NOW + timedelta(hours=1))
        self.assertEqual(self.pulled_blogs(), ["hourly", "hourly"])
        self.assertEqual(source.next_pull_at, NOW + timedelta(hours=2))

    def test_dead_feed_is_stored_and_not_retried_by_the_cron(self):
        self.site.script("/gone/feed", Reply(404, "no such blog"))
        source = self.make_source(f"{self.site.url}/gone/feed", interval_minutes=10)
        with freeze_time(NOW), self.assertLogs("odoo.addons.social_crm.models.social_source", "WARNING") as logs:
            self.env["social.source"]._cron_sync_due()
        self.assertIn("does not exist (HTTP 404)", logs.output[0])
        self.assertRecordValues(
            source,
            [
                {
                    "state": "error",
                    "error_code": "not_found",
                    "error_retryable": False,
                    "error_count": 1,
                    "last_attempt_at": NOW,
                    "last_pull_at": False,
                    "next_pull_at": NOW + timedelta(minutes=10),
                }
            ],
        )
        self.assertIn("does not exist (HTTP 404)", source.last_error)
        self.run_cron(NOW + timedelta(days=1))
        self.assertEqual(self.pulled_blogs(), ["gone"], "a feed that is gone waits for a person")

    def test_manual_pull_of_dead_feed_doubles_back_off(self):
        self.site.script("/gone/feed", Reply(404, "no such blog"))
        source = self.make_source(f"{self.site.url}/gone/feed", interval_minutes=10)
        for count, minutes in ((1, 10), (2, 20), (3, 40), (4, 80)):
            with freeze_time(NOW), mute_logger("odoo.addons.social_crm.models.social_source"):
                source.with_user(self.social_manager).action_sync()
            self.assertRecordValues(
                source, [{"state": "error", "error_count": count, "next_pull_at": NOW + timedelta(minutes=minutes)}]
            )

    def test_retryable_error_backs_off_then_recovers(self):
        self.make_blog("flaky", count=2)
        self.site.script("/flaky/feed", Reply(503, "maintenance"))
        source = self.make_source(f"{self.site.url}/flaky/feed", interval_minutes=10)
        at = NOW
        for count, minutes in enumerate((10, 20, 40, 80), start=1):
            self.run_cron(at)
            self.assertRecordValues(
                source,
                [
                    {
                        "state": "error",
                        "error_code": "unavailable",
                        "error_retryable": True,
                        "error_count": count,
                        "last_attempt_at": at,
                        "last_pull_at": False,
                        "next_pull_at": at + timedelta(minutes=minutes),
                    }
                ],
            )
            self.assertIn("HTTP 503", source.last_error)
            self.run_cron(at + timedelta(minutes=minutes, seconds=-1))
            self.assertEqual(len(self.pulled_blogs()), count, "not retried before its back-off has passed")
            at += timedelta(minutes=minutes)
        del self.site.scripted["/flaky/feed"]
        self.run_cron(at)
        self.assertRecordValues(
            source,
            [
                {
                    "state": "active",
                    "error_code": False,
                    "error_retryable": False,
                    "error_count": 0,
                    "last_error": False,
                    "last_pull_at": at,
                    "next_pull_at": at + timedelta(minutes=10),
                }
            ],
        )
        self.assertEqual(len(self.messages_of(source)), 2)

    def test_back_off_is_capped(self):
        self.site.script("/flaky/feed", Reply(502))
        source = self.make_source(
            f"{self.site.url}/flaky/feed", interval_minutes=10, state="error", error_code="unavailable", error_count=9
        )
        self.run_cron(NOW)
        self.assertRecordValues(source, [{"error_count": 10, "next_pull_at": NOW + timedelta(minutes=10 * 32)}])

    def test_server_error_with_retry_after(self):
        self.site.script("/busy/feed", Reply(503, headers={"Retry-After": "7200"}))
        source = self.make_source(f"{self.site.url}/busy/feed", interval_minutes=10)
        self.run_cron(NOW)
        self.assertRecordValues(source, [{"state": "error", "next_pull_at": NOW + timedelta(hours=2)}])

    def test_rate_limit_waits_and_stays_active(self):
        self.make_blog("popular", count=3)
        self.site.script("/popular/feed", Reply(429, "slow down", headers={"Retry-After": "3600"}))
        source = self.make_source(f"{self.site.url}/popular/feed", interval_minutes=15)
        self.run_cron(NOW)
        self.assert_rate_limited(source, until=NOW + timedelta(hours=1))
        self.assertIn("HTTP 429", source.last_error)
        del self.site.scripted["/popular/feed"]
        self.run_cron(NOW + timedelta(minutes=59))
        self.assertEqual(self.pulled_blogs(), ["popular"], "the platform's wait is respected")
        self.run_cron(NOW + timedelta(hours=1))
        self.assertEqual(len(self.messages_of(source)), 3)
        self.assertRecordValues(
            source,
            [
                {
                    "state": "active",
                    "error_count": 0,
                    "error_code": False,
                    "next_pull_at": NOW + timedelta(hours=1, minutes=15),
                }
            ],
        )

    def test_rate_limit_until_http_date(self):
        until = NOW + timedelta(hours=2)
        self.site.script(
            "/popular/feed",
            Reply(429, headers={"Retry-After": format_datetime(until.replace(tzinfo=timezone.utc), usegmt=True)}),
        )
        source = self.make_source(f"{self.site.url}/popular/feed")
        self.run_cron(NOW)
        self.assertRecordValues(source, [{"state": "active", "next_pull_at": until}])

    def test_failing_source_does_not_stop_the_others(self):
        self.site.script("/gone/feed", Reply(404))
        self.site.script("/broken/feed", Reply(200, "<html><body>Moved to a new host</body></html>"))
        dead = self.make_source(f"{self.site.url}/gone/feed", name="dead")
        first = self.make_source(self.make_blog("first", count=2), name="first")
        broken = self.make_source(f"{self.site.url}/broken/feed", name="broken")
        last = self.make_source(self.make_blog("last", count=3), name="last")
        self.run_cron(NOW)
        self.assertEqual(self.pulled_blogs(), ["gone", "first", "broken", "last"])
        self.assertRecordValues(
            dead | first | broken | last,
            [
                {"state": "error", "error_code": "not_found"},
                {"state": "active", "error_code": False},
                {"state": "error", "error_code": "invalid_data"},
                {"state": "active", "error_code": False},
            ],
        )
        self.assertEqual(len(self.messages_of(first)), 2)
        self.assertEqual(len(self.messages_of(last)), 3)

    def test_an_unexpected_failure_is_recorded_on_its_source_and_the_next_is_pulled(self):
        crashing = self.make_source(self.make_blog("crashing", count=2), name="crashing")
        after = self.make_source(self.make_blog("after", count=3), name="after")
        Source = type(self.env["social.source"])
        store_batch = Source._store_batch

        def store_or_crash(source, batch, **kwargs):
            if source.name == "crashing":
                raise RuntimeError("a bug while storing")
            return store_batch(source, batch, **kwargs)

        with (
            patch.object(Source, "_store_batch", store_or_crash),
            freeze_time(NOW),
            self.assertLogs(SOURCE_LOGGER, "ERROR") as logs,
        ):
            self.env["social.source"]._cron_sync_due()
        self.assertRecordValues(
            crashing,
            [
                {
                    "state": "error",
                    "error_code": "unexpected",
                    "error_retryable": False,
                    "error_count": 1,
                    "last_error": "Unexpected error while storing the pull; see the server log.",
                    "last_attempt_at": NOW,
                    "last_pull_at": False,
                    "cursor": False,
                }
            ],
        )
        self.assertRecordValues(
            after, [{"state": "active", "error_code": False, "error_count": 0, "last_pull_at": NOW}]
        )
        self.assertFalse(self.messages_of(crashing), "what the failed pull wrote is rolled back")
        self.assertEqual(len(self.messages_of(after)), 3, "the next source is pulled")
        self.assertTrue(after.cursor)
        [record] = logs.records
        self.assertIn("crashing", record.getMessage())
        self.assertIs(record.exc_info[0], RuntimeError, "the traceback is logged")

    def test_batch_pulls_longest_waiting_first(self):
        sources = [
            self.make_source(self.make_blog(name, count=1), name=name, next_pull_at=next_pull_at)
            for name, next_pull_at in (
                ("recent", NOW - timedelta(minutes=5)),
                ("old", NOW - timedelta(hours=3)),
                ("new", False),
            )
        ]
        self.run_cron(NOW, batch_size=2)
        self.assertEqual(self.pulled_blogs(), ["new", "old"])
        self.run_cron(NOW + timedelta(minutes=1), batch_size=2)
        self.assertEqual(self.pulled_blogs(), ["new", "old", "recent"])
        self.assertTrue(all(source.state == "active" and self.messages_of(source) for source in sources))


@tagged("post_install", "-at_install")
class TestCronSkipsLockedSources(TransactionCase):
    """A source another worker is pulling (its row locked, as the cron or
    *Pull now* lock it) is skipped, not pulled a second time.

    The lock must come from another database connection, which only sees
    committed rows: the source is committed before the test's transaction
    starts, and deleted again after it ends."""

    @classmethod
    def setUpClass(cls):
        cls.site = FeedSite().start()
        cls.addClassCleanup(cls.site.stop)
        url = cls.site.add_blog("locked", sample_entries(2, prefix="locked"))
        registry = Registry(get_db_name())
        with registry.cursor() as cr:
            cls.source_id = (
                api.Environment(cr, SUPERUSER_ID, {})["social.source"]
                .create({"name": "Locked feed", "platform": "feed", "target": url, "local_network": True})
                .id
            )
        # registered first, so run last: once the test's transaction is closed
        cls.addClassCleanup(cls.delete_source, registry)
        super().setUpClass()

    @classmethod
    def delete_source(cls, registry):
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["social.source"].browse(cls.source_id).unlink()

    def test_a_source_locked_by_another_worker_is_skipped(self):
        source = self.env["social.source"].browse(self.source_id)
        (self.env["social.source"].search([]) - source).action_pause()
        other_worker = self.registry.cursor()
        self.addCleanup(other_worker.close)
        other_worker.execute(SQL("SELECT id FROM social_source WHERE id = %s FOR NO KEY UPDATE", source.id))
        # were the lock ignored, writing the source would wait for the other worker: fail instead of hanging
        self.env.cr.execute("SET LOCAL lock_timeout = '2s'")

        with freeze_time(NOW), mute_logger("odoo.addons.social_crm.models.social_source"):
            self.env["social.source"]._cron_sync_due()
        self.assertFalse(self.site.requests, "the locked source was not pulled")
        self.assertRecordValues(source, [{"last_pull_at": False, "state": "active"}])

        other_worker.rollback()  # the other worker is done
        with freeze_time(NOW), mute_logger("odoo.addons.social_crm.models.social_source"):
            self.env["social.source"]._cron_sync_due()
        self.assertEqual([request.path for request in self.site.requests], ["/locked/feed"])
        self.assertRecordValues(source, [{"last_pull_at": NOW, "state": "active"}])
        self.assertEqual(self.env["social.message"].search_count([("source_id", "=", source.id)]), 2)
