from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestReachTour(HttpCase):
    """A sender sends to a segment in the browser; a community manager sees
    the ideas on their kanban."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sender = new_test_user(
            cls.env, login="tour_sender", groups="social_crm.group_social_crm_sender,base.group_partner_manager"
        )
        tag = cls.env["res.partner.category"].create({"name": "Tour campers"})
        cls.members = cls.env["res.partner"].create(
            [
                {"name": "Tour Ana", "email": "ana@tour.example", "category_id": [(4, tag.id)]},
                {"name": "Tour Ben", "email": "ben@tour.example", "category_id": [(4, tag.id)]},
            ]
        )
        cls.segment = cls.env["social.segment"].create(
            {"name": "Tour campers", "domain": f"[('category_id', 'in', {tag.ids})]"}
        )

    def test_a_sender_sends_to_a_segment(self):
        self.start_tour(
            f"/odoo/action-social_crm.social_segment_action/{self.segment.id}",
            "social_crm_segment_sending",
            login="tour_sender",
        )
        sending = self.env["social.sending"].search([("segment_id", "=", self.segment.id)])
        self.assertRecordValues(
            sending, [{"state": "queued", "email_subject": "For you, {first_name}", "user_id": self.sender.id}]
        )
        self.assertEqual(sending.line_ids.partner_id, self.members)

    def test_ideas_on_their_kanban(self):
        conversation = self.env["social.conversation"].create({"platform": "feed", "thread_key": "tour-idea"})
        messages = self.env["social.message"].create(
            [
                {
                    "platform": "feed",
                    "external_id": f"tour-idea-{index}",
                    "conversation_id": conversation.id,
                    "author_id": self.env["social.identity"]
                    .create({"platform": "feed", "external_id": f"tour-author-{index}", "name": f"Author {index}"})
                    .id,
                    "body": f"<p>{text}</p>",
                }
                for index, text in enumerate(["Please add a green tent", "Please add green tents, thanks"])
            ]
        )
        messages.action_capture_idea()
        self.start_tour("/odoo/action-social_crm.social_idea_action", "social_crm_idea_kanban", login="tour_sender")
