from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.social_crm_demo.fake_platforms import MastodonApi

TOKEN = "mastodon-tour-token"


@tagged("post_install", "-at_install")
class TestReplyTour(HttpCase):
    """An agent works a case in the browser, from the cases kanban to a
    reply published on Mastodon with a canned reply."""

    def test_an_agent_replies_from_the_case_with_a_canned_reply(self):
        self.env["social.source"].search([]).action_pause()
        api = MastodonApi(token=TOKEN).start()
        self.addCleanup(api.stop)
        alice = api.add_account("alice", "Alice Brook", domain="fosstodon.org")
        question = api.post(alice, "my Ridge tent leaks at the seams", mention=True)
        agent = new_test_user(self.env, login="tour_agent", groups="social_crm.group_social_crm_user")
        team = self.env["crm.team"].create({"name": "Tour support", "member_ids": [(6, 0, agent.ids)]})
        source = self.env["social.source"].create(
            {
                "name": "Tour Mastodon",
                "platform": "mastodon",
                "mode": "mentions",
                "target": "",
                "api_url": api.url,
                "access_token": TOKEN,
                "local_network": True,
                "team_id": team.id,
            }
        )
        source.action_sync()
        conversation = self.env["social.conversation"].search([("source_id", "=", source.id)])
        case = self.env["social.case"].create(
            {
                "name": "Leaking tent",
                "team_id": team.id,
                "user_id": agent.id,
                "identity_id": conversation.post_ids.author_id.id,
                "conversation_ids": [(6, 0, conversation.ids)],
            }
        )
        self.env["mail.canned.response"].create(
            {
                "source": "leak",
                "substitution": "Sorry {name}, a seam-sealing kit for {case} is on its way.",
                "group_ids": [(6, 0, self.env.ref("social_crm.group_social_crm_user").ids)],
                "social_team_ids": [(6, 0, team.ids)],
            }
        )

        self.start_tour("/odoo/action-social_crm.social_case_action", "social_crm_reply_tour", login="tour_agent")

        self.assertEqual(
            api.published,
            [
                {
                    "status": "@alice@fosstodon.org Sorry Alice Brook, "
                    f"a seam-sealing kit for {case.reference} is on its way.",
                    "visibility": "public",
                    "in_reply_to_id": question.id,
                }
            ],
        )
        self.assertEqual(case.reply_ids.state, "published")
