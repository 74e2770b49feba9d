from datetime import datetime, timezone

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import SampleEntry

from .routing_common import RoutingCase


@tagged("post_install", "-at_install")
class TestRoutingRule(RoutingCase):
    """Each condition of a rule, each action, the order of the rules, and
    rules run on every pull."""

    def routed_by(self, message):
        return message.conversation_id.routing_rule_id

    def test_keywords_match_whole_words_and_phrases_in_any_case(self):
        rule = self.make_rule(keywords="refund, broken zip")
        hits = [
            self.make_post("REFUND please, the pole snapped"),
            self.make_post("The broken   Zip again."),
            self.make_post("refund!"),
        ]
        misses = [self.make_post("I was refunded already"), self.make_post("the zip is broken")]
        self.route(sum(hits + misses, self.env["social.message"]))
        self.assertEqual([self.routed_by(message) for message in hits], [rule] * 3)
        self.assertFalse(any(self.routed_by(message) for message in misses))

    def test_keywords_match_the_title_too(self):
        rule = self.make_rule(keywords="field notes")
        message = self.make_post("nothing here")
        message.title = "Field notes from the GR20"
        self.route(message)
        self.assertEqual(self.routed_by(message), rule)

    def test_platform_and_sources(self):
        on_mastodon = self.make_rule(name="Mastodon", platform="mastodon", sequence=1)
        feed_rule = self.make_rule(name="Blog", source_ids=[self.feed.id], sequence=2)
        toot = self.make_post("hello")
        blog_comment = self.make_post("hello", source=self.feed)
        self.route(toot, self.mastodon)
        self.route(blog_comment, self.feed)
        self.assertEqual(self.routed_by(toot), on_mastodon)
        self.assertEqual(self.routed_by(blog_comment), feed_rule)

    def test_language_matches_the_primary_subtag(self):
        rule = self.make_rule(languages="fr, EN")
        english, british, german = (
            self.make_post("hi", language="en"),
            self.make_post("hi", language="en-GB"),
            self.make_post("hallo", language="de"),
        )
        unknown = self.make_post("?", language=False)
        self.route(english | british | german | unknown)
        self.assertEqual(self.routed_by(english), rule)
        self.assertEqual(self.routed_by(british), rule)
        self.assertFalse(self.routed_by(german))
        self.assertFalse(self.routed_by(unknown))

    def test_author_contact_tags(self):
        rule = self.make_rule(partner_category_ids=[self.vip.id])
        vip = self.make_post("hi", author=self.make_identity(partner=self.customer))
        other = self.make_post("hi", author=self.make_identity(partner=self.env["res.partner"].create({"name": "Jo"})))
        anonymous = self.make_post("hi")
        self.route(vip | other | anonymous)
        self.assertEqual(self.routed_by(vip), rule)
        self.assertFalse(self.routed_by(other) or self.routed_by(anonymous))

    def test_author_linked_or_not_to_a_customer(self):
        linked_rule = self.make_rule(name="Customers", customer_link="linked", sequence=1)
        unlinked_rule = self.make_rule(name="Strangers", customer_link="unlinked", sequence=2)
        known = self.make_post("hi", author=self.make_identity(partner=self.customer))
        stranger = self.make_post("hi")
        self.route(known | stranger)
        self.assertEqual(self.routed_by(known), linked_rule)
        self.assertEqual(self.routed_by(stranger), unlinked_rule)

    def test_first_rule_in_sequence_wins(self):
        general = self.make_rule(name="Everything", sequence=5, team_id=self.team.id)
        refunds = self.make_rule(name="Refunds", sequence=10, keywords="refund", priority="2")
        message = self.make_post("refund please")
        self.route(message)
        self.assertEqual(self.routed_by(message), general)
        self.assertEqual(message.conversation_id.priority, "0", "only the winning rule acts")
        refunds.sequence = 1
        later = self.make_post("refund please")
        self.route(later)
        self.assertEqual(self.routed_by(later), refunds)
        self.assertEqual(later.conversation_id.priority, "2")

    def test_a_conversation_is_routed_once_by_its_first_matching_post(self):
        self.make_rule(name="Team", keywords="tent", team_id=self.team.id)
        other_team = self.env["crm.team"].create({"name": "Sales"})
        second = self.make_rule(name="Sales", keywords="price", team_id=other_team.id, sequence=1)
        first_post = self.make_post("my tent leaks")
        self.route(first_post)
        conversation = first_post.conversation_id
        self.assertEqual(conversation.team_id, self.team)
        reply = self.make_post("what price for a new one?", conversation=conversation)
        self.route(reply)
        self.assertEqual(conversation.team_id, self.team, "a later post does not reroute the conversation")
        self.assertNotEqual(conversation.routing_rule_id, second)

    def test_outbound_posts_are_not_routed(self):
        self.make_rule(keywords="tent", create_case=True)
        message = self.make_post("our new tent is out")
        message.direction = "outbound"
        self.route(message)
        self.assertFalse(message.conversation_id.routing_rule_id or message.conversation_id.case_id)

    def test_rules_of_another_company_do_not_apply(self):
        self.env["social.routing.rule"].create({"name": "Elsewhere", "company_id": self.other_company.id})
        message = self.make_post("hi")
        self.route(message)
        self.assertFalse(self.routed_by(message))

    def test_actions_set_team_assignee_priority_and_tags(self):
        tag = self.env["crm.tag"].create({"name": "Complaint"})
        rule = self.make_rule(
            keywords="broken", team_id=self.team.id, user_id=self.agent_a.id, priority="3", tag_ids=[tag.id]
        )
        message = self.make_post("broken buckle")
        self.route(message)
        self.assertRecordValues(
            message.conversation_id,
            [
                {
                    "routing_rule_id": rule.id,
                    "team_id": self.team.id,
                    "user_id": self.agent_a.id,
                    "priority": "3",
                    "tag_ids": tag.ids,
                    "state": "new",
                    "case_id": False,
                }
            ],
        )

    def test_action_opens_a_case_with_customer_text_and_routing(self):
        tag = self.env["crm.tag"].create({"name": "Warranty"})
        self.make_rule(keywords="warranty", team_id=self.team.id, priority="2", tag_ids=[tag.id], create_case=True)
        author = self.make_identity(partner=self.customer)
        message = self.make_post("Is my stove under warranty?", author=author)
        self.route(message)
        conversation = message.conversation_id
        case = conversation.case_id
        self.assertTrue(case)
        self.assertEqual(conversation.state, "open")
        self.assertRecordValues(
            case,
            [
                {
                    "partner_id": self.customer.id,
                    "identity_id": author.id,
                    "team_id": self.team.id,
                    "priority": "2",
                    "tag_ids": tag.ids,
                    "user_id": False,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertIn("Is my stove under warranty?", case.description)
        self.assertEqual(case.conversation_ids, conversation)
        self.route(self.make_post("warranty again", conversation=conversation))
        self.assertEqual(self.env["social.case"].search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_rules_are_managed_by_managers_only(self):
        Rule = self.env["social.routing.rule"]
        rule = self.make_rule(keywords="refund")
        self.assertEqual(Rule.with_user(self.social_user).search([("id", "=", rule.id)]), rule, "users read rules")
        with self.assertRaises(AccessError):
            rule.with_user(self.social_user).write({"keywords": "anything"})
        with self.assertRaises(AccessError):
            Rule.with_user(self.social_user).create({"name": "Mine"})
        with self.assertRaises(AccessError):
            rule.with_user(self.social_user).unlink()
        rule.with_user(self.social_manager).write({"sequence": 3})
        self.assertEqual(rule.sequence, 3)
        foreign = Rule.create({"name": "Elsewhere", "company_id": self.other_company.id})
        self.assertFalse(Rule.with_user(self.social_manager).search([("id", "=", foreign.id)]))

    # ------------------------------------------------------------------
    # On every pull
    # ------------------------------------------------------------------

    def entries(self, name, count):
        return [
            SampleEntry(
                id=f"{name}-{n}",
                title=f"Report {n}",
                author=f"Writer {n}",
                body=f"<p>My tent pole is broken after trip {n}.</p>" if n % 2 else f"<p>Nice trip {n}.</p>",
                published=datetime(2026, 11, 1, n % 24, tzinfo=timezone.utc),
            )
            for n in range(count)
        ]

    def pull(self, name, count):
        source = self.make_source(self.site.add_blog(name, self.entries(name, count)), team_id=self.team.id)
        return source, self.sync_queries(source)

    def test_rules_run_on_every_pull(self):
        rule = self.make_rule(keywords="broken", team_id=self.team.id, user_id=self.agent_b.id, create_case=True)
        source, _queries = self.pull("pull", 6)
        conversations = self.env["social.conversation"].search([("source_id", "=", source.id)])
        routed = conversations.filtered("routing_rule_id")
        self.assertEqual(len(routed), 3)
        self.assertEqual(routed.routing_rule_id, rule)
        self.assertEqual(routed.case_id.user_id, self.agent_b)
        self.assertEqual(set(routed.mapped("state")), {"open"})
        self.assertFalse((conversations - routed).case_id)
        source._sync()
        self.assertEqual(len(routed.case_id), 3, "a second pull routes nothing twice")

    def test_routing_query_count_does_not_grow_with_the_pull(self):
        """What the rules cost a pull, measured against the same pulls
        without rules: a few queries per rule, whatever the batch size."""
        self.pull("warmup", 4)
        bare_small, bare_large = self.pull("bare_small", 10)[1], self.pull("bare_large", 120)[1]
        self.make_rule(name="Cases", keywords="broken", team_id=self.team.id, priority="2", create_case=True)
        self.make_rule(name="Tags", keywords="report", tag_ids=[self.env["crm.tag"].create({"name": "Trip"}).id])
        self.make_rule(name="Team", team_id=self.team.id, user_id=self.agent_a.id)
        self.pull("warmup_rules", 4)
        _source, small = self.pull("small", 10)
        source, large = self.pull("large", 120)
        self.assertEqual(len(self.env["social.case"].search([("conversation_ids.source_id", "=", source.id)])), 60)
        routing_small, routing_large = small - bare_small, large - bare_large
        self.assertLessEqual(
            routing_large,
            routing_small + 2,
            f"routing 10 posts: {routing_small} queries, 120 posts: {routing_large} queries",
        )
