from datetime import datetime

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestCreateCaseTour(HttpCase):
    """An agent opens a conversation in the browser, clicks *Create case*,
    and gets a case with the customer, the text, the team and its SLA."""

    def test_create_case_from_a_conversation(self):
        agent = new_test_user(self.env, login="tour_agent", groups="social_crm.group_social_crm_user")
        team = self.env["crm.team"].create({"name": "Tour Support", "member_ids": [(4, agent.id)]})
        self.env["social.sla.policy"].create({"name": "Tour SLA", "team_id": team.id, "reply_hours": 8})
        source = self.env["social.source"].create(
            {"name": "Tour toots", "platform": "mastodon", "mode": "hashtag", "target": "tents", "team_id": team.id}
        )
        source.action_pause()
        customer = self.env["res.partner"].create({"name": "Tour Customer"})
        author = self.env["social.identity"].create(
            {"platform": "mastodon", "external_id": "tour-1", "handle": "@tour", "partner_id": customer.id}
        )
        conversation = self.env["social.conversation"].create(
            {"platform": "mastodon", "thread_key": "tour-post", "source_id": source.id, "team_id": team.id}
        )
        self.env["social.message"].create(
            {
                "platform": "mastodon",
                "external_id": "tour-post",
                "conversation_id": conversation.id,
                "source_id": source.id,
                "author_id": author.id,
                "body": "<p>My stove leaks at the valve</p>",
                "posted_at": datetime(2026, 11, 20, 9, 0),
            }
        )
        self.start_tour(f"/odoo/social.conversation/{conversation.id}", "social_crm_create_case", login="tour_agent")
        self.assertEqual(conversation.case_id.partner_id, customer)
        self.assertEqual(conversation.state, "open")
        conversation.case_id.tag_ids = self.env["crm.tag"].create({"name": "Stoves"})
        self.start_tour("/odoo/action-social_crm.social_case_action", "social_crm_case_card", login="tour_agent")
