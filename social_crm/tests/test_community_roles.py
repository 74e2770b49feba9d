from ast import literal_eval
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.social_crm.models import social_community_mixin

from .common import SocialCrmCase

NOW = datetime(2026, 11, 30, 12, 0)


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestCommunityRoles(SocialCrmCase):
    """Power users, detractors, helpers and advocates, per identity and per
    contact, weighted by what the customer is worth."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Identity = cls.env["social.identity"]
        cls.brand = Identity.create({"platform": "mastodon", "external_id": "900", "handle": "@tentworks"})
        cls.jo = Identity.create({"platform": "mastodon", "external_id": "901", "handle": "@jo"})
        cls.sam = Identity.create({"platform": "mastodon", "external_id": "902", "handle": "@sam"})
        cls.kim = Identity.create({"platform": "mastodon", "external_id": "903", "handle": "@kim"})
        cls.counter = 0

    def thread(self, root_author, direction="inbound"):
        conversation = self.env["social.conversation"].create(
            {"platform": "mastodon", "thread_key": f"t{self.next_id()}"}
        )
        root = self.say(root_author, "neutral", conversation=conversation, direction=direction)
        return conversation, root

    def next_id(self):
        type(self).counter += 1
        return self.counter

    def say(self, author, mood, days_ago=0, conversation=None, parent=None, direction="inbound", likes=0):
        """A message already scored ``mood`` (the scoring has its own tests)."""
        score = {"positive": 0.7, "negative": -0.7, "neutral": 0.0}[mood]
        conversation = conversation or (parent.conversation_id if parent else self.thread(self.kim)[0])
        return self.env["social.message"].create(
            {
                "platform": "mastodon",
                "external_id": f"m{self.next_id()}",
                "conversation_id": conversation.id,
                "author_id": author.id,
                "parent_id": parent.id if parent else False,
                "direction": direction,
                "posted_at": NOW - timedelta(days=days_ago),
                "like_count": likes,
                "sentiment_state": "scored",
                "sentiment_score": score,
                "sentiment_label": mood,
            }
        )

    def compute(self, records):
        self.env.flush_all()
        records._compute_social_roles(
            social_community_mixin.Thresholds.from_params(self.env["ir.config_parameter"].sudo().get_param)
        )

    def roles(self, record):
        return set(record.social_role_ids.mapped("code"))

    def test_lasting_negative_sentiment_makes_a_detractor_one_bad_day_does_not(self):
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
        for _n in range(3):
            self.say(self.sam, "negative", days_ago=2)
        self.compute(self.jo | self.sam)
        self.assertIn("detractor", self.roles(self.jo))
        self.assertNotIn("detractor", self.roles(self.sam), "three complaints on one day are not lasting")
        self.assertGreater(self.jo.social_detractor_score, 0)
        self.assertEqual(self.sam.social_detractor_score, 0)

    def test_old_messages_fall_out_of_the_window(self):
        for days_ago in (100, 110, 120):
            self.say(self.jo, "negative", days_ago=days_ago)
        self.compute(self.jo)
        self.assertFalse(self.jo.social_role_ids)

    def test_helper_answers_other_customers_not_our_account_nor_oneself(self):
        for _n in range(3):
            _conversation, question = self.thread(self.kim)
            self.say(self.jo, "neutral", parent=question)
            _conversation, announcement = self.thread(self.brand, direction="outbound")
            self.say(self.sam, "neutral", parent=announcement)
            _conversation, own = self.thread(self.sam)
            self.say(self.sam, "neutral", parent=own)
        self.compute(self.jo | self.sam)
        self.assertIn("helper", self.roles(self.jo))
        self.assertEqual(self.jo.social_helper_score, 3)
        self.assertNotIn("helper", self.roles(self.sam), "replies to our own posts and to oneself do not help others")

    def test_power_user_needs_volume_and_reach(self):
        self.jo.follower_count = 5000
        self.sam.follower_count = 10
        for n in range(20):
            self.say(self.jo, "neutral", days_ago=n)
            self.say(self.sam, "neutral", days_ago=n)
        self.compute(self.jo | self.sam)
        self.assertEqual(self.roles(self.jo), {"power_user"})
        self.assertFalse(self.roles(self.sam), "volume without reach")

    def test_advocate_is_positive_and_heard(self):
        for n in range(3):
            self.say(self.jo, "positive", days_ago=n, likes=50)
            self.say(self.sam, "positive", days_ago=n)
        self.compute(self.jo | self.sam)
        self.assertEqual(self.roles(self.jo), {"advocate"})
        self.assertFalse(self.roles(self.sam), "nobody hears sam")

    def test_a_large_customer_detractor_ranks_above_an_anonymous_one(self):
        company = self.env["res.partner"].create({"name": "Big Outdoor Ltd", "is_company": True})
        buyer = self.env["res.partner"].create({"name": "Sam Buyer", "parent_id": company.id})
        self.sam.partner_id = buyer
        lead = self.env["crm.lead"].create(
            {"name": "Fleet of tents", "type": "opportunity", "partner_id": company.id, "expected_revenue": 50000}
        )
        lead.action_set_won()
        self.env["crm.lead"].create(
            {"name": "Lost deal", "type": "opportunity", "partner_id": buyer.id, "expected_revenue": 900000}
        ).action_set_lost()
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
            self.say(self.sam, "negative", days_ago=days_ago)
        self.compute(self.jo | self.sam)
        self.assertEqual(self.jo.social_detractor_score, 2.1, "3 negative messages at -0.7, weight 1")
        self.assertAlmostEqual(self.sam.social_detractor_score, 2.1 * (1 + 4.69897), places=1)
        ranked = self.env["social.identity"].search(
            [("social_role_ids.code", "=", "detractor")], order="social_detractor_score desc"
        )
        self.assertEqual(ranked[:2], self.sam | self.jo)
        self.assertEqual(ranked[0], self.sam)
        # per contact too: the buyer is weighed by its company's won revenue
        self.compute(buyer)
        self.assertIn("detractor", self.roles(buyer))
        self.assertEqual(buyer.social_detractor_score, self.sam.social_detractor_score)

    def test_thresholds_are_settings(self):
        for days_ago in (1, 2):
            self.say(self.jo, "negative", days_ago=days_ago)
        self.compute(self.jo)
        self.assertFalse(self.jo.social_role_ids)
        self.env["res.config.settings"].create(
            {"social_role_detractor_min_negative": 2, "social_role_detractor_min_days": 1}
        ).execute()
        self.compute(self.jo)
        self.assertEqual(self.roles(self.jo), {"detractor"})

    def test_only_administrators_change_thresholds(self):
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.social_manager).create(
                {"social_role_detractor_min_negative": 1}
            )
        admin = self.make_user("roles_admin", "base.group_system,social_crm.group_social_crm_manager")
        self.env["res.config.settings"].with_user(admin).create({"social_role_detractor_min_negative": 1}).execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param("social_crm.role_detractor_min_negative"), "1")

    def test_users_cannot_set_roles(self):
        detractor = self.env.ref("social_crm.social_role_detractor")
        with self.assertRaises(AccessError):
            self.jo.with_user(self.social_user).write({"social_role_ids": [(6, 0, detractor.ids)]})
        with self.assertRaises(AccessError):
            self.jo.with_user(self.social_manager).write({"social_detractor_score": 99})

    def test_roles_sync_to_contact_tags(self):
        self.env["ir.config_parameter"].set_param("social_crm.role_sync_tags", "1")
        partner = self.env["res.partner"].create({"name": "Jo Walker"})
        self.jo.partner_id = partner
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
        self.compute(partner)
        tag = self.env.ref("social_crm.res_partner_category_detractor")
        self.assertIn(tag, partner.category_id)
        # a month later the complaints are out of a 30-day window: role and tag go
        self.env["ir.config_parameter"].set_param("social_crm.role_window_days", "3")
        self.compute(partner)
        self.assertFalse(partner.social_role_ids)
        self.assertNotIn(tag, partner.category_id)

    def test_a_synced_role_drives_the_routing_rules(self):
        """Roles reach the cases through the contact tags: a rule on the
        detractor tag opens an urgent case for the detractor's next post,
        not for a customer without the role."""
        self.env["ir.config_parameter"].set_param("social_crm.role_sync_tags", "1")
        detractor, other = self.env["res.partner"].create([{"name": "Jo Walker"}, {"name": "Kim Lee"}])
        self.jo.partner_id, self.kim.partner_id = detractor, other
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
        self.compute(detractor | other)
        source = self.env["social.source"].create(
            {"name": "Mastodon #tentworks", "platform": "mastodon", "mode": "hashtag", "target": "tentworks"}
        )
        self.env["social.routing.rule"].create(
            {
                "name": "Detractors first",
                "partner_category_ids": [self.env.ref("social_crm.res_partner_category_detractor").id],
                "priority": "3",
                "create_case": True,
            }
        )
        threads = self.env["social.conversation"].create(
            [{"platform": "mastodon", "thread_key": key} for key in ("jo-again", "kim-asks")]
        )
        new_posts = self.say(self.jo, "negative", conversation=threads[0]) | self.say(
            self.kim, "neutral", conversation=threads[1]
        )
        self.env["social.routing.rule"]._route(source, new_posts)
        jo_case, kim_case = (post.conversation_id.case_id for post in new_posts)
        self.assertEqual((jo_case.partner_id, jo_case.priority), (detractor, "3"))
        self.assertFalse(kim_case)

    def test_tags_untouched_without_sync(self):
        partner = self.env["res.partner"].create({"name": "Jo Walker"})
        self.jo.partner_id = partner
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
        self.compute(partner)
        self.assertEqual(self.roles(partner), {"detractor"})
        self.assertFalse(partner.category_id)

    def test_cron_recomputes_stale_records_in_batches(self):
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
            self.say(self.sam, "negative", days_ago=days_ago)
        Identity = self.env["social.identity"]
        with patch.object(social_community_mixin, "ROLE_BATCH", 1), patch.object(
            social_community_mixin, "ROLE_BATCHES_PER_RUN", 2
        ):
            candidates = Identity.search_count([("message_count", ">", 0)])
            done = 0
            while batch := Identity._cron_compute_social_roles():
                self.assertLessEqual(batch, 2)
                done += batch
            self.assertEqual(done, candidates)
            self.assertEqual(self.roles(self.jo), {"detractor"})
            self.assertEqual(Identity._cron_compute_social_roles(), 0, "fresh roles are left alone")
            with freeze_time(NOW + timedelta(days=1)):
                self.assertEqual(Identity._cron_compute_social_roles(), 2, "a day later they are due again")

    def test_the_overview_counts_holders(self):
        for days_ago in (1, 5, 10):
            self.say(self.jo, "negative", days_ago=days_ago)
        self.compute(self.jo)
        detractor = self.env.ref("social_crm.social_role_detractor").with_user(self.social_user)
        self.assertEqual(detractor.identity_count, 1)
        action = detractor.action_view_identities()
        self.assertEqual(self.env["social.identity"].search(literal_eval(action["domain"])), self.jo)
