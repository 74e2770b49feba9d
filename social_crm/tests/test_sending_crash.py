"""A scheduled sending killed with ``kill -9`` keeps every batch it
committed and the next run sends the rest: each recipient gets one email,
none is lost. The cron runs in a real Odoo process (see
:mod:`.cron_process`), on fixtures this test commits and removes."""

import logging
import os
import signal
import time

from odoo.tests import tagged

from .cron_process import CronProcessCase

_logger = logging.getLogger(__name__)

RECIPIENTS = 800
BATCH = 10
RUN_TIMEOUT = 120

CRON_SCRIPT = """
batch = int(args[0])
with registry.cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    env["social.sending"]._cron_send(batch_size=batch, max_batches=10**6)
print("cron done", flush=True)
"""


@tagged("post_install", "-at_install")
class TestKilledSending(CronProcessCase):
    def setUp(self):
        super().setUp()
        with self.committed() as env:
            tag = env["res.partner.category"].create({"name": "Killed sending"})
            env["res.partner"].with_context(tracking_disable=True).create(
                [
                    {"name": f"Camper {index}", "email": f"camper{index}@example.com", "category_id": [(4, tag.id)]}
                    for index in range(RECIPIENTS)
                ]
            )
            segment = env["social.segment"].create({"name": "Killed", "domain": f"[('category_id', 'in', {tag.ids})]"})
            sending = env["social.sending"].create(
                {"name": "Killed", "segment_id": segment.id, "use_email": True, "email_body": "<p>Hi {name}</p>"}
            )
            sending.action_send()
            self.ids = {"tag": tag.id, "segment": segment.id, "sending": sending.id}
        self.addCleanup(self.remove_committed)

    def remove_committed(self):
        with self.committed() as env:
            sending = env["social.sending"].browse(self.ids["sending"])
            sending.line_ids.mail_id.unlink()
            sending.unlink()
            env["social.segment"].browse(self.ids["segment"]).unlink()
            env["res.partner"].search([("category_id", "in", [self.ids["tag"]])]).unlink()
            env["res.partner.category"].browse(self.ids["tag"]).unlink()

    def state(self):
        """Committed: line states, and how many emails each line's contact has."""
        with self.committed() as env:
            env.cr.execute(
                """SELECT line.state, count(*), count(line.mail_id) FROM social_sending_line line
                    WHERE line.sending_id = %s GROUP BY line.state""",
                [self.ids["sending"]],
            )
            states = {state: (count, mails) for state, count, mails in env.cr.fetchall()}
            env.cr.execute(
                """SELECT count(*), count(DISTINCT rel.res_partner_id) FROM mail_mail mail
                     JOIN mail_mail_res_partner_rel rel ON rel.mail_mail_id = mail.id
                     JOIN res_partner_res_partner_category_rel tag ON tag.partner_id = rel.res_partner_id
                    WHERE tag.category_id = %s""",
                [self.ids["tag"]],
            )
            mails, partners = env.cr.fetchone()
        return states, mails, partners

    def test_a_sending_killed_between_batches_sends_each_email_once(self):
        process = self.start_cron(CRON_SCRIPT, BATCH)
        deadline = time.monotonic() + RUN_TIMEOUT
        while "sent" not in self.state()[0]:
            self.assertIsNone(process.poll(), f"the run ended before a batch was committed:\n{self.output()}")
            self.assertLess(time.monotonic(), deadline, f"no batch committed in time:\n{self.output()}")
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)

        states, mails, partners = self.state()
        sent, sent_mails = states["sent"]
        self.assertLess(sent, RECIPIENTS, "killed in the middle of the sending")
        self.assertEqual(sent % BATCH, 0, "whole batches committed")
        self.assertEqual((sent_mails, mails, partners), (sent, sent, sent), "each sent line has its one email")
        self.assertEqual(states["pending"], (RECIPIENTS - sent, 0), "the rest waits, with no email")

        _logger.info(
            "sending killed after %s of %s recipients committed; the next run sends the rest", sent, RECIPIENTS
        )
        process = self.start_cron(CRON_SCRIPT, BATCH)
        self.assertEqual(process.wait(RUN_TIMEOUT), 0, self.output())
        states, mails, partners = self.state()
        self.assertEqual(states, {"sent": (RECIPIENTS, RECIPIENTS)})
        self.assertEqual((mails, partners), (RECIPIENTS, RECIPIENTS), "one email per recipient over both runs")
