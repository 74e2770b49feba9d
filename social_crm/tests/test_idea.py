from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common_reach import ReachCase


@tagged("post_install", "-at_install")
class TestIdeas(ReachCase):
    """Ideas are captured by phrases in their language (scheduled, in
    batches) and by hand, similar ones grouped with their distinct
    customers; a shipped idea is told to the customers who raised it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # only this test's messages are read by the capture
        cls.env["social.message"].search([]).write({"idea_checked": True})
        Partner = cls.env["res.partner"]
        cls.ana = Partner.create({"name": "Ana Camper", "email": "ana@example.com"})
        cls.ben = Partner.create({"name": "Ben Hiker"})
        cls.ana_account = cls.account(cls.ana, "mastodon")
        cls.ben_account = cls.account(cls.ben, "x")
        cls.anonymous = cls.account(False, "bluesky")

    def capture(self, batch_size=1000):
        with patch.object(type(self.env["ir.cron"]), "_notify_progress") as progress:
            self.env["social.idea"]._cron_capture(batch_size=batch_size)
        return progress.call_args.kwargs

    def test_phrases_capture_ideas_and_similar_ones_are_grouped(self):
        green_1 = self.message(self.ana_account, "Love it! It would be great if the tent came in green.")
        green_2 = self.message(self.ben_account, "Please add a green tent, like the old one")
        green_3 = self.message(self.ana_account, "Feature request: green tents!")
        gpx = self.message(self.anonymous, "Feature request: export my trips to GPX")
        use = self.message(self.ben_account, "I use it for backyard movie nights")
        self.message(self.ben_account, "My order is late")
        self.message(self.ana_account, "It would be great if it came in green", language="fr")
        self.message(self.ben_account, "Please add green tents", direction="outbound")

        self.capture()
        green = green_1.idea_vote_ids.idea_id
        self.assertTrue(green)
        self.assertEqual((green_2 | green_3).idea_vote_ids.idea_id, green, "similar wording, one idea")
        self.assertEqual(green.vote_ids.message_id, green_1 | green_2 | green_3, "links to each message")
        self.assertRecordValues(green, [{"vote_count": 2, "message_total": 3, "kind": "improvement"}])
        self.assertEqual(green.stage_id, self.env.ref("social_crm.social_idea_stage_new"))
        self.assertNotEqual(gpx.idea_vote_ids.idea_id, green, "unrelated ideas stay apart")
        self.assertEqual(use.idea_vote_ids.idea_id.kind, "use")
        ideas = self.env["social.idea"].search(
            [("vote_ids.message_id.author_id", "in", (self.ana_account | self.ben_account | self.anonymous).ids)]
        )
        self.assertEqual(len(ideas), 3, "the late order, the French message and our own post are no ideas")
        self.assertEqual(green_1.idea_vote_ids.rule_phrase, "it would be great if")

    def test_capture_runs_in_batches_and_reads_each_message_once(self):
        for index in range(5):
            self.message(self.ben_account, f"Please add a green tent number {index}")
        self.assertEqual(self.capture(batch_size=2), {"done": 2, "remaining": 3})
        self.capture(batch_size=2)
        self.assertEqual(self.capture(batch_size=2), {"done": 1, "remaining": 0})
        self.assertEqual(self.capture(batch_size=2), {"done": 0, "remaining": 0})
        ideas = self.env["social.idea"].search([("vote_ids.identity_id", "=", self.ben_account.id)])
        self.assertEqual(len(ideas.vote_ids), 5)

    def test_the_phrases_are_configurable(self):
        message = self.message(self.ana_account, "Hätte gern eine grüne Version", language="de")
        self.env["social.idea.rule"].create({"phrase": "hätte gern", "language": "de"})
        self.capture()
        self.assertTrue(message.idea_vote_ids)

    def test_a_message_is_captured_by_hand_once(self):
        message = self.message(self.ana_account, "A tent that doubles as a hammock")
        action = message.with_user(self.social_user).action_capture_idea()
        idea = self.env["social.idea"].browse(action["res_id"])
        self.assertEqual(idea.name, "A tent that doubles as a hammock")
        self.assertEqual(idea.vote_ids.method, "manual")
        again = message.with_user(self.social_user).action_capture_idea()
        self.assertEqual(again["res_id"], idea.id)
        self.assertEqual(len(idea.vote_ids), 1)
        similar = self.message(self.ben_account, "hammock tent?")
        similar.with_user(self.social_user).action_capture_idea()
        self.assertEqual(similar.idea_vote_ids.idea_id, idea, "grouped with the similar idea")
        self.assertEqual(idea.vote_count, 2)

    def test_the_similarity_threshold_is_a_setting(self):
        first = self.message(self.ana_account, "Please add a green tent with a porch")
        second = self.message(self.ben_account, "Please add a green tent with a hammock")
        self.capture()
        self.assertEqual(first.idea_vote_ids.idea_id, second.idea_vote_ids.idea_id, "2 of 3 keywords shared")
        self.env["ir.config_parameter"].set_param("social_crm.idea_similarity", "1")
        third = self.message(self.ben_account, "Please add a green tent with a stove")
        self.capture()
        self.assertNotEqual(third.idea_vote_ids.idea_id, first.idea_vote_ids.idea_id)

    def test_shipped_idea_is_told_to_its_customers(self):
        green_1 = self.message(self.ana_account, "Please add a green tent")
        self.message(self.ana_account, "please add green tents!!")
        self.message(self.anonymous, "It would be great if the tent came in green")
        self.capture()
        idea = green_1.idea_vote_ids.idea_id
        self.assertEqual(idea.vote_count, 2)
        with self.assertRaises(UserError):
            idea.action_tell_customers()
        idea.stage_id = self.env.ref("social_crm.social_idea_stage_shipped")
        with self.assertRaises(AccessError):
            idea.with_user(self.social_user).action_tell_customers()
        sending = self.env["social.sending"].browse(idea.with_user(self.sender).action_tell_customers()["res_id"])
        with self.assertRaises(AccessError):
            sending.with_user(self.social_user).action_send()
        sending.with_user(self.sender).action_send()
        with patch.object(type(self.env["ir.cron"]), "_notify_progress"):
            self.env["social.sending"]._cron_send()
        lines = {line.recipient_key: line for line in sending.line_ids}
        self.assertEqual(len(lines), 2, "one notice per customer, not per message")
        ana_line = lines[f"partner-{self.ana.id}"]
        self.assertEqual(ana_line.state, "sent")
        self.assertIn("Hi Ana, you suggested it and it is here: ", ana_line.mail_id.body_html)
        self.assertEqual(ana_line.mail_id.recipient_ids, self.ana)
        self.assertEqual(idea.sending_ids, sending)

    def test_stages_and_access(self):
        message = self.message(self.ana_account, "Please add a green tent")
        self.capture()
        idea = message.idea_vote_ids.idea_id.with_user(self.social_user)
        idea.stage_id = self.env.ref("social_crm.social_idea_stage_planned")
        self.assertEqual(idea.stage_id.name, "Planned")
        with self.assertRaises(AccessError):
            idea.unlink()
        with self.assertRaises(AccessError):
            self.env["social.idea.rule"].with_user(self.social_user).create({"phrase": "gimme"})
        with self.assertRaises(AccessError):
            idea.vote_ids.write({"idea_id": False})
        elsewhere = self.env["social.idea"].create({"name": "Elsewhere", "company_id": self.other_company.id})
        with self.assertRaises(AccessError):
            self.env["social.idea.vote"].with_user(self.social_user).create(
                {"idea_id": elsewhere.id, "message_id": message.id}
            )
