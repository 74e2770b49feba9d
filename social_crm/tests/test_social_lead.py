from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .routing_common import RoutingCase


@tagged("post_install", "-at_install")
class TestCaseAndLeadFromConversation(RoutingCase):
    """*Create case* and *Create lead* on a conversation or a post, as an
    agent would click them, and leads made by a routing rule."""

    def test_create_case_from_a_conversation(self):
        author = self.make_identity("feed", partner=self.customer)
        message = self.make_post("The zip of my tent broke on day two.", source=self.feed, author=author)
        conversation = message.conversation_id
        action = conversation.with_user(self.agent_a).action_create_case()
        case = self.env["social.case"].browse(action["res_id"])
        self.assertEqual(action["res_model"], "social.case")
        self.assertEqual(
            (case.partner_id, case.identity_id, case.team_id, case.user_id, case.name),
            (self.customer, author, self.team, self.agent_a, conversation.name),
            "customer, identity and the source's team; the agent who clicked, as the team assigns by hand",
        )
        self.assertIn("The zip of my tent broke on day two.", case.description)
        self.assertEqual(case.conversation_ids, conversation)
        self.assertEqual(conversation.state, "open")
        with self.assertRaises(UserError):
            conversation.with_user(self.agent_a).action_create_case()

    def test_create_case_from_a_reply_takes_the_reply(self):
        root = self.make_post("Our autumn catalogue is out", source=self.feed)
        stranger = self.make_identity("feed", name="Ben Okafor")
        reply = self.make_post(
            "My order never arrived", source=self.feed, author=stranger, conversation=root.conversation_id
        )
        self.team.write({"social_assignment": "round_robin", "social_last_user_id": self.agent_a.id})
        self.env["crm.team.member"].create(
            [{"crm_team_id": self.team.id, "user_id": user.id} for user in (self.agent_a, self.agent_b)]
        )
        action = reply.with_user(self.agent_a).action_create_case()
        case = self.env["social.case"].browse(action["res_id"])
        self.assertEqual(case.identity_id, stranger)
        self.assertFalse(case.partner_id)
        self.assertIn("My order never arrived", case.description)
        self.assertEqual(case.user_id, self.agent_b, "a team that assigns hands the case to its agent")
        self.assertEqual(root.conversation_id.case_id, case)

    def test_create_lead_from_a_post_with_utm(self):
        author = self.make_identity(partner=self.customer)
        message = self.make_post("Do you sell tents for 10 people? We are a school.", author=author)
        action = message.with_user(self.agent_a).action_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(action["res_model"], "crm.lead")
        self.assertEqual(lead.partner_id, self.customer)
        self.assertIn("We are a school.", lead.description)
        self.assertEqual(lead.medium_id.name, "Mastodon")
        self.assertEqual(lead.source_id, self.mastodon.utm_source_id)
        self.assertEqual(lead.source_id.name, "Mastodon #tents")
        self.assertEqual(lead.social_conversation_id, message.conversation_id)
        conversation = message.conversation_id
        self.assertEqual(conversation.lead_ids, lead)
        self.assertEqual(conversation.lead_count, 1)
        self.assertEqual(self.env["crm.lead"].search(conversation.action_view_leads()["domain"]), lead)
        self.assertEqual(lead.action_view_social_conversation()["res_id"], conversation.id)
        # the contact's timeline shows the lead with the post it came from
        timeline = self.customer.with_user(self.agent_a).social_timeline_ids
        self.assertEqual(timeline.filtered(lambda post: post == message).lead_id, lead)
        self.assertEqual(message.with_user(self.agent_a).action_open_lead()["res_id"], lead.id)
        # the UTM records are made once and reused
        second = self.env["crm.lead"].browse(
            self.make_post("And sleeping bags?").with_user(self.agent_a).action_create_lead()["res_id"]
        )
        self.assertEqual((second.medium_id, second.source_id), (lead.medium_id, lead.source_id))
        self.assertEqual(self.env["utm.medium"].search_count([("name", "=ilike", "mastodon")]), 1)

    def test_lead_of_an_unknown_author_and_an_existing_medium(self):
        x_source = self.env["social.source"].create(
            {"name": "X search", "platform": "x", "mode": "search", "target": "acme"}
        )
        author = self.make_identity("x", name="Chloe Silva")
        message = self.make_post("Price for a group order?", source=x_source, author=author)
        action = message.conversation_id.with_user(self.agent_a).action_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertFalse(lead.partner_id)
        self.assertEqual(lead.contact_name, "Chloe Silva")
        self.assertEqual(lead.medium_id, self.env.ref("utm.utm_medium_twitter"), "Odoo's own X medium is reused")
        self.assertEqual(lead.source_id.name, "X search")

    def test_routing_rule_creates_leads(self):
        self.make_rule(keywords="quote, group order", create_lead=True, team_id=self.team.id)
        messages = self.make_post("Can we get a quote for 40 packs?") | self.make_post("group order please")
        messages |= self.make_post("just saying hi")
        self.route(messages)
        leads = self.env["crm.lead"].search([("social_conversation_id", "in", messages.conversation_id.ids)])
        self.assertEqual(len(leads), 2)
        self.assertEqual(leads.team_id, self.team)
        self.assertFalse(leads.user_id, "the pull's user is nobody's salesperson")
        self.assertEqual((len(leads.medium_id), len(leads.source_id)), (1, 1), "one medium, one source, reused")

    def test_a_user_without_sales_rights_cannot_make_leads(self):
        message = self.make_post("quote please")
        with self.assertRaises(AccessError):
            message.with_user(self.social_user).action_create_lead()

    def test_a_lead_links_only_to_a_conversation_its_author_may_read(self):
        foreign = self.env["social.conversation"].create(
            {"platform": "feed", "thread_key": "elsewhere", "company_id": self.other_company.id}
        )
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(self.agent_a).create({"name": "Peek", "social_conversation_id": foreign.id})
