from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common_reach import ReachCase


@tagged("post_install", "-at_install")
class TestSendingEmail(ReachCase):
    """A sending to a segment by email: opt-outs and the blacklist are
    respected, each recipient gets one email with its own placeholders, and
    the scheduled batches resume after a crash without sending twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.tag = cls.env["res.partner.category"].create({"name": "Campers"})

        def member(name, **values):
            return Partner.create({"name": name, "category_id": [(4, cls.tag.id)], **values})

        cls.ana = member("Ana <b>Bold</b>", email="ana@example.com")
        cls.bea = member("Bea Blacklisted", email="Bea@Example.com")
        cls.cal = member("Cal Optout", email="cal@example.com", social_optout_email=True)
        cls.dan = member("Dan Noemail")
        cls.eve = member("Eve Invalid", email="not an email")
        cls.account(cls.ana, "mastodon", handle="ana@camp.example")
        cls.env["mail.blacklist"].create({"email": "bea@example.com"})
        cls.segment = cls.env["social.segment"].create(
            {"name": "Campers", "domain": f"[('category_id', 'in', {cls.tag.ids})]"}
        )

    def sending(self, user=None, **values):
        return (
            self.env["social.sending"]
            .with_user(user or self.sender)
            .create(
                {
                    "name": "Autumn sale",
                    "segment_id": self.segment.id,
                    "use_email": True,
                    "email_subject": "For you, {first_name}",
                    "email_body": "<p>Dear {name} ({handle}), from {company}.</p>",
                    **values,
                }
            )
        )

    def run_cron(self, batch_size=200):
        with patch.object(type(self.env["ir.cron"]), "_notify_progress") as progress:
            self.env["social.sending"]._cron_send(batch_size=batch_size)
        return progress.call_args.kwargs

    def results(self, sending):
        return {line.partner_id: (line.state, line.skip_reason) for line in sending.line_ids}

    def test_emails_respect_blacklist_and_optouts_with_reasons(self):
        sending = self.sending()
        sending.action_send()
        self.assertEqual(sending.state, "queued")
        self.assertEqual(self.run_cron(), {"done": 5, "remaining": 0})
        self.assertEqual(sending.state, "done")
        self.assertEqual(
            self.results(sending),
            {
                self.ana: ("sent", False),
                self.bea: ("skipped", "blacklisted"),
                self.cal: ("skipped", "optout"),
                self.dan: ("skipped", "no_email"),
                self.eve: ("skipped", "no_email"),
            },
        )
        self.assertRecordValues(sending, [{"sent_count": 1, "skipped_count": 4, "failed_count": 0, "progress": 100}])
        mail = sending.line_ids.filtered(lambda line: line.state == "sent").mail_id
        self.assertEqual(mail.recipient_ids, self.ana)
        self.assertEqual(mail.subject, "For you, Ana")
        self.assertIn("Dear Ana &lt;b&gt;Bold&lt;/b&gt; (@ana@camp.example), from", mail.body_html, "values escaped")
        self.assertEqual(mail.state, "outgoing", "queued to Odoo's outgoing mail")

    def test_the_report_groups_lines_by_result(self):
        sending = self.sending()
        sending.action_send()
        self.run_cron()
        action = sending.action_view_lines()
        groups = self.env["social.sending.line"].read_group(action["domain"], ["state"], ["state"])
        self.assertEqual({group["state"]: group["state_count"] for group in groups}, {"sent": 1, "skipped": 4})

    def test_a_crashed_batch_is_sent_again_and_nothing_twice(self):
        sending = self.sending()
        sending.action_send()
        ana_mails = [("recipient_ids", "in", self.ana.ids)]
        # the first batch is killed once Ana's email is queued, before the
        # commit that ends it: its whole transaction is lost
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.env["social.sending"]._cron_send(batch_size=2)
            self.env.flush_all()
            self.assertEqual(self.env["mail.mail"].search_count(ana_mails), 1)
            raise RuntimeError("kill -9")
        self.env.invalidate_all()
        self.assertEqual(set(sending.line_ids.mapped("state")), {"pending"}, "nothing counted as sent")
        self.assertEqual(self.env["mail.mail"].search_count(ana_mails), 0, "nor queued")
        # the next runs send it, batch after (committed) batch, once
        self.assertEqual(self.run_cron(batch_size=2), {"done": 2, "remaining": 3})
        while sending.state == "queued":
            self.run_cron(batch_size=2)
        self.assertEqual(self.env["mail.mail"].search_count(ana_mails), 1)
        self.assertEqual(self.results(sending)[self.ana], ("sent", False))
        self.assertEqual(sending.pending_count, 0)

    def test_a_line_interrupted_while_publishing_is_failed_never_sent_twice(self):
        sending = self.sending()
        sending.action_send()
        line = sending.sudo().line_ids.filtered(lambda line: line.partner_id == self.ana)
        line.state = "sending"  # claimed and committed, then the worker died
        self.run_cron()
        self.assertEqual(line.state, "failed")
        self.assertIn("may or may not have been published", line.error)
        self.assertFalse(line.mail_id)

    def test_cancel_skips_what_is_left(self):
        sending = self.sending()
        sending.action_send()
        sending.action_cancel()
        self.assertEqual(set(sending.line_ids.mapped("skip_reason")), {"cancelled"})
        self.run_cron()
        self.assertFalse(sending.line_ids.mail_id)

    def test_unknown_placeholders_are_refused_when_saved(self):
        with self.assertRaisesRegex(ValidationError, r"unknown placeholder \{email\}"):
            self.sending(email_subject="Hi {email}")
        with self.assertRaisesRegex(ValidationError, "unknown placeholder"):
            self.sending(email_body="<p>{name.__class__}</p>")

    def test_a_sending_goes_once(self):
        sending = self.sending()
        sending.action_send()
        with self.assertRaises(UserError):
            sending.action_send()

    def test_only_senders_send(self):
        with self.assertRaises(AccessError):
            self.sending(user=self.social_user)
        draft = self.sending()
        with self.assertRaises(AccessError):
            draft.with_user(self.social_user).action_send()
        with self.assertRaises(AccessError):
            draft.with_user(self.social_user).write({"email_subject": "Changed"})
        with self.assertRaises(AccessError):
            self.env["social.sending.line"].with_user(self.sender).create(
                {"sending_id": draft.id, "channel": "email", "partner_id": self.dan.id, "recipient_key": "x"}
            )
        self.assertFalse(draft.line_ids)
        draft.with_user(self.social_manager).action_send()
        self.assertEqual(draft.state, "queued")

    def test_a_sender_cannot_send_for_another_company(self):
        other = self.env["social.segment"].create({"name": "Elsewhere", "company_id": self.other_company.id})
        with self.assertRaises(AccessError):
            self.sending(segment_id=other.id)
