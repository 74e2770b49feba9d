"""A scheduled pull killed with ``kill -9`` keeps every batch it committed:
the cron commits each stored batch with its cursor and reads, so the next
run resumes after the last committed batch, reads no page twice (X bills
each read) and stores nothing twice.

The pull runs in a real Odoo process (``module.current_test`` is False
there, so the cron commits as in production), from fixtures this test
commits through its own cursor and removes at the end.
"""

import base64
import logging
import os
import signal
import time

from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import XApi

from .cron_process import CronProcessCase

_logger = logging.getLogger(__name__)

#: seconds the loopback X waits before each answer: a pull of ~40 pages
#: lasts long enough to be killed between two committed batches
PAGE_DELAY = 0.15
RUN_TIMEOUT = 120

CRON_SCRIPT = """
source_id = int(args[0])
with registry.cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    Source = type(env["social.source"])
    due_domain = Source._due_domain
    # only this test's source: the database may hold others (demo data)
    Source._due_domain = lambda self: [*due_domain(self), ("id", "=", source_id)]
    env["social.source"]._cron_sync_due()
print("cron done", flush=True)
"""


def page_end(token):
    """The id of the last tweet of the page before ``token`` (the loopback
    X's paging token is that id in base32)."""
    return base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()


@tagged("post_install", "-at_install")
class TestKilledScheduledPull(CronProcessCase):
    """~3,800 X mentions pulled by the cron in a separate Odoo process,
    killed with SIGKILL once its first batch is committed, then run again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = XApi.generate(posts=4000, authors=300, threads=400, seed=5)
        cls.api.delay = PAGE_DELAY
        cls.api.start()
        cls.addClassCleanup(cls.api.stop)
        cls.mentions = [tweet["id"] for tweet in cls.api.mentions_of(cls.api.account)]

    def setUp(self):
        super().setUp()
        with self.committed() as env:
            source = env["social.source"].create(
                {
                    "name": "Killed pull",
                    "platform": "x",
                    "mode": "mentions",
                    "target": self.api.account,
                    "api_url": f"{self.api.url}/2",
                    "local_network": True,
                    "bearer_token": self.api.bearer_token,
                    "max_items": 10000,
                    "read_budget": 100000,
                }
            )
            self.source_id = source.id
        self.addCleanup(self.remove_committed)

    def remove_committed(self):
        with self.committed() as env:
            source = env["social.source"].browse(self.source_id)
            env["social.conversation"].search([("source_id", "=", source.id)]).unlink()
            env["social.identity"].search(
                [("platform", "=", "x"), ("external_id", "in", list(self.api.users))]
            ).unlink()
            source.unlink()

    def state(self):
        """Committed: the external ids and database ids of the source's
        messages, its cursor and its reads."""
        with self.committed() as env:
            env.cr.execute("SELECT external_id, id FROM social_message WHERE source_id = %s", [self.source_id])
            messages = dict(env.cr.fetchall())
            env.cr.execute("SELECT cursor, reads_this_month FROM social_source WHERE id = %s", [self.source_id])
            cursor, reads = env.cr.fetchone()
        return messages, cursor or {}, reads or 0

    def test_a_pull_killed_between_batches_keeps_them_and_resumes_after_them(self):
        total = len(self.mentions)
        process = self.start_cron(CRON_SCRIPT, self.source_id)
        deadline = time.monotonic() + RUN_TIMEOUT
        while not self.state()[0]:
            self.assertIsNone(process.poll(), f"the pull ended before a batch was committed:\n{self.output()}")
            self.assertLess(time.monotonic(), deadline, f"no batch committed in time:\n{self.output()}")
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)

        kept, cursor, reads = self.state()
        self.assertLess(reads, total, "killed in the middle of the pull")
        self.assertTrue(reads > 0 and cursor.get("next_token"), "the batch was committed with its reads and cursor")
        self.assertEqual(page_end(cursor["next_token"]), self.mentions[reads - 1], "the cursor ends where the reads do")
        self.assertLessEqual(set(self.mentions[:reads]), set(kept), "every page read is stored")
        token, reads_before_kill = cursor["next_token"], reads

        self.api.requests.clear()
        process = self.start_cron(CRON_SCRIPT, self.source_id)
        self.assertEqual(process.wait(RUN_TIMEOUT), 0, self.output())

        stored, cursor, reads = self.state()
        pages = [r for r in self.api.requests if r.path == f"/2/users/{self.api.account}/mentions"]
        self.assertEqual(pages[0].param("pagination_token"), token, "the next run resumes after the last batch")
        self.assertEqual(reads, total, "each mention read (and billed) once over both runs")
        self.assertLessEqual(set(self.mentions), set(stored), "the second run stored the rest")
        self.assertEqual({key: stored[key] for key in kept}, kept, "what the killed run stored is kept as it was")
        newest = max(self.mentions, key=lambda i: (len(i), i))
        self.assertEqual(cursor, {"since_id": newest, "user_id": self.api.account})
        _logger.info(
            "killed after %s of %s mention reads: %s posts committed before the kill, %s after the resumed run",
            reads_before_kill,
            total,
            len(kept),
            len(stored),
        )
