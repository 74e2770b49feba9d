from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import MastodonApi, Reply

from .common_reach import ReachCase

MASTODON_TOKEN = "mastodon-reach-token"


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
            self.env["social.sending"]._cron_send(batch_size=batch_size, max_batches=1)
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

    def test_contacts_sharing_an_address_get_one_email(self):
        twins = self.env["res.partner"].create(
            [
                {"name": f"Twin {index}", "email": "twins@example.com", "category_id": [(4, self.tag.id)]}
                for index in range(3)
            ]
        )
        sending = self.sending()
        sending.action_send()
        self.run_cron(batch_size=6)  # one twin in the first batch, two in the second
        self.run_cron(batch_size=6)
        results = sorted(self.results(sending)[twin] for twin in twins)
        self.assertEqual(results, [("sent", False), ("skipped", "duplicate"), ("skipped", "duplicate")])
        self.assertEqual(self.env["mail.mail"].search_count([("recipient_ids", "in", twins.ids)]), 1)

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
            self.env["social.sending"]._cron_send(batch_size=2, max_batches=1)
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

    def test_state_and_sent_content_cannot_be_forged(self):
        draft = self.sending()
        with self.assertRaises(AccessError):
            draft.write({"state": "done"})
        draft.action_send()
        with self.assertRaises(UserError):
            draft.write({"email_body": "<p>Something else</p>"})
        draft.write({"name": "Autumn sale (week 1)"})

    def test_a_sender_cannot_send_for_another_company(self):
        other = self.env["social.segment"].create({"name": "Elsewhere", "company_id": self.other_company.id})
        with self.assertRaises(AccessError):
            self.sending(segment_id=other.id)


@tagged("post_install", "-at_install")
class TestSendingPlatforms(ReachCase):
    """Public posts and direct messages to a segment go through the reply
    composer's publishing to a loopback Mastodon, which records what it got;
    opt-outs per channel and the platform's refusals are on the lines."""

    def setUp(self):
        super().setUp()
        self.api = MastodonApi(token=MASTODON_TOKEN)
        self.api.start()
        self.addCleanup(self.api.stop)
        alice = self.api.add_account("alice", "Alice Brook", domain="fosstodon.org")
        bob = self.api.add_account("bob", "Bob Stone", domain="mastodon.social")
        self.api.post(alice, "love the Ridge tent", mention=True)
        self.api.post(bob, "the Ridge tent is fine", mention=True)
        self.source = self.env["social.source"].create(
            {
                "name": "Our Mastodon",
                "platform": "mastodon",
                "mode": "mentions",
                "target": "",
                "api_url": self.api.url,
                "local_network": True,
                "access_token": MASTODON_TOKEN,
            }
        )
        self.source.action_sync()
        Partner = self.env["res.partner"]
        self.tag = self.env["res.partner.category"].create({"name": "Ridge owners"})
        self.alice = Partner.create({"name": "Alice Brook", "category_id": [(4, self.tag.id)]})
        self.bob = Partner.create({"name": "Bob Stone", "category_id": [(4, self.tag.id)], "social_optout_dm": True})
        self.carl = Partner.create({"name": "Carl Offline", "category_id": [(4, self.tag.id)]})
        identities = self.env["social.identity"].search([("platform", "=", "mastodon")])
        identities.filtered(lambda identity: identity.name == "Alice Brook").partner_id = self.alice
        identities.filtered(lambda identity: identity.name == "Bob Stone").partner_id = self.bob
        self.segment = self.env["social.segment"].create(
            {"name": "Ridge owners", "domain": f"[('category_id', 'in', {self.tag.ids})]"}
        )

    def send(self, **values):
        sending = (
            self.env["social.sending"]
            .with_user(self.sender)
            .create({"name": "Ridge news", "segment_id": self.segment.id, "source_id": self.source.id, **values})
        )
        sending.action_send()
        with patch.object(type(self.env["ir.cron"]), "_notify_progress"):
            self.env["social.sending"]._cron_send()
        return sending

    def line(self, sending, partner, channel):
        return sending.sudo().line_ids.filtered(lambda line: line.partner_id == partner and line.channel == channel)

    def test_posts_and_direct_messages_respect_each_channel_opt_out(self):
        sending = self.send(
            use_post=True,
            post_body="thanks for camping with the Ridge, {first_name}!",
            use_dm=True,
            dm_body="Hi {first_name}, a Ridge fly is 20% off for you.",
        )
        self.assertEqual(
            self.api.published,
            [
                {"status": "@alice@fosstodon.org thanks for camping with the Ridge, Alice!", "visibility": "public"},
                {"status": "@alice@fosstodon.org Hi Alice, a Ridge fly is 20% off for you.", "visibility": "direct"},
                {"status": "@bob@mastodon.social thanks for camping with the Ridge, Bob!", "visibility": "public"},
            ],
        )
        self.assertRecordValues(
            self.line(sending, self.alice, "post") | self.line(sending, self.bob, "dm"),
            [{"state": "sent", "skip_reason": False}, {"state": "skipped", "skip_reason": "optout"}],
        )
        for channel in ("post", "dm"):
            self.assertEqual(self.line(sending, self.carl, channel).skip_reason, "no_account")
        post = self.line(sending, self.alice, "post").outbound_id
        self.assertRecordValues(post, [{"state": "published", "direction": "outbound", "visibility": "public"}])
        self.assertTrue(self.line(sending, self.alice, "post").url)
        self.assertEqual(post.conversation_id.thread_key, post.external_id, "in the thread of the new post")
        self.assertFalse(
            self.env["social.conversation"].search([("thread_key", "=like", "social.sending.line:%")]),
            "no empty conversation left behind",
        )
        self.assertEqual(sending.state, "done")

    def test_a_refusal_is_recorded_with_the_platforms_words(self):
        self.bob.social_optout_post = True
        with self.assertLogs("odoo.addons.social_crm.models.social_message", "WARNING"):
            sending = self.send(use_post=True, post_body="{name} " + "Ridge " * 100)
        line = self.line(sending, self.alice, "post")
        self.assertEqual(line.state, "failed")
        self.assertIn("Validation failed: Text character limit of 500 exceeded", line.error)
        self.assertEqual(line.outbound_id.state, "failed", "the draft is kept to retry")
        self.assertFalse(self.api.published)
        self.assertEqual(self.line(sending, self.bob, "post").skip_reason, "optout")
        self.assertEqual(sending.failed_count, 1)

    def test_a_shipped_idea_is_told_in_the_customers_thread(self):
        alice_post = self.env["social.message"].search([("author_id.partner_id", "=", self.alice.id)])
        action = alice_post.action_capture_idea()
        idea = self.env["social.idea"].browse(action["res_id"])
        idea.stage_id = self.env.ref("social_crm.social_idea_stage_shipped")
        sending = self.env["social.sending"].browse(idea.with_user(self.sender).action_tell_customers()["res_id"])
        sending.with_user(self.sender).action_send()
        with patch.object(type(self.env["ir.cron"]), "_notify_progress"):
            self.env["social.sending"]._cron_send()
        line = sending.sudo().line_ids
        self.assertRecordValues(line, [{"channel": "reply", "state": "sent", "reply_to_id": alice_post.id}])
        self.assertEqual(self.api.published[0]["in_reply_to_id"], alice_post.external_id.rsplit(":", 1)[-1])
        self.assertTrue(self.api.published[0]["status"].startswith("@alice@fosstodon.org Hi Alice, you suggested it"))
        self.assertEqual(line.outbound_id.parent_id, alice_post)

    def test_an_outage_waits_for_the_retry_and_then_counts_as_sent(self):
        self.bob.social_optout_post = True
        self.api.fail(
            "/api/v1/statuses", Reply(503, '{"error": "Service Unavailable"}', {"Content-Type": "application/json"})
        )
        with self.assertLogs("odoo.addons.social_crm.models.social_message", "WARNING"):
            sending = self.send(use_post=True, post_body="news for {name}")
        line = self.line(sending, self.alice, "post")
        self.assertEqual(line.state, "waiting")
        self.assertEqual(sending.state, "queued", "not done while a line waits")
        self.env["social.message"]._cron_publish_queued()
        with patch.object(type(self.env["ir.cron"]), "_notify_progress"):
            self.env["social.sending"]._cron_send()
        self.assertEqual(line.state, "sent")
        self.assertEqual(sending.state, "done")
        self.assertEqual([item["status"] for item in self.api.published], ["@alice@fosstodon.org news for Alice Brook"])
