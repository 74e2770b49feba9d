from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common_reach import ReachCase


@tagged("post_install", "-at_install")
@freeze_time("2026-11-30 12:00:00")
class TestSegment(ReachCase):
    """Segments pick contacts by domain, over ordinary contact fields and
    the social facets stored on contacts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.beta = cls.env["res.partner.category"].create({"name": "Beta"})
        cls.ana = Partner.create({"name": "Ana Regular", "city": "Lyon", "category_id": [(4, cls.beta.id)]})
        cls.bob = Partner.create({"name": "Bob Quiet", "city": "Lyon"})
        cls.cyd = Partner.create({"name": "Cyd Offline", "city": "Lyon", "category_id": [(4, cls.beta.id)]})
        ana_mastodon = cls.account(cls.ana, "mastodon")
        ana_x = cls.account(cls.ana, "x")
        bob_x = cls.account(cls.bob, "x")
        cls.message(ana_mastodon, "hello", "2026-11-25 09:00:00")
        cls.message(ana_x, "hi", "2026-11-10 09:00:00")
        cls.message(bob_x, "long ago", "2026-09-01 09:00:00")

    def segment(self, domain, **values):
        return self.env["social.segment"].create({"name": "Test", "domain": domain, **values})

    def members(self, domain):
        return self.segment(domain)._members() & (self.ana | self.bob | self.cyd)

    def test_facets_are_stored_on_the_contact(self):
        self.assertRecordValues(
            self.ana | self.bob | self.cyd,
            [
                {"social_platforms": "Mastodon, X", "social_post_count": 2, "social_days_since_post": 5},
                {"social_platforms": "X", "social_post_count": 1, "social_days_since_post": 90},
                {"social_platforms": False, "social_post_count": 0, "social_days_since_post": 0},
            ],
        )
        self.assertEqual(str(self.ana.social_last_post_at), "2026-11-25 09:00:00")

    def test_members_by_platform_activity_and_tags(self):
        self.assertEqual(self.members("[('social_platforms', 'ilike', 'mastodon')]"), self.ana)
        self.assertEqual(self.members("[('social_platforms', 'ilike', 'x')]"), self.ana | self.bob)
        self.assertEqual(self.members("[('social_days_since_post', '<=', 30)]"), self.ana)
        self.assertEqual(self.members("[('social_days_since_post', '>', 30)]"), self.bob | self.cyd, "never posted")
        self.assertEqual(self.members("[('social_days_since_post', '<', 5)]"), self.env["res.partner"])
        self.assertEqual(
            self.members(f"[('social_post_count', '>=', 1), ('category_id', 'in', {self.beta.ids})]"), self.ana
        )
        self.assertEqual(self.members("[('city', '=', 'Lyon'), ('social_platforms', '=', False)]"), self.cyd)

    def test_a_new_account_moves_a_contact_into_the_segment(self):
        segment = self.segment(f"[('social_platforms', 'ilike', 'bluesky'), ('id', 'in', {self.cyd.ids})]")
        self.assertEqual(segment.member_count, 0)
        self.message(self.account(self.cyd, "bluesky"), "first post", "2026-11-29 09:00:00")
        segment.invalidate_recordset(["member_count"])
        self.assertEqual(segment.member_count, 1)
        self.assertEqual(self.cyd.social_days_since_post, 1)

    def test_members_button_opens_the_members(self):
        segment = self.segment(f"[('category_id', 'in', {self.beta.ids})]")
        action = segment.action_view_members()
        self.assertEqual(self.env["res.partner"].search(action["domain"]), self.ana | self.cyd)
        self.assertEqual(segment.member_count, 2)

    def test_members_of_another_company_are_left_out(self):
        self.bob.company_id = self.other_company
        self.assertEqual(self.members("[('city', '=', 'Lyon')]"), self.ana | self.cyd)

    def test_an_invalid_domain_is_refused_clearly(self):
        for domain in ("[('no_such_field', '=', 1)]", "[('city', '=', 'Lyon'", "__import__('os')", "{'a': 1}"):
            with self.subTest(domain=domain), self.assertRaisesRegex(ValidationError, "invalid domain"):
                self.segment(domain)

    def test_days_since_post_compares_with_numbers_only(self):
        with self.assertRaises(Exception):
            self.env["res.partner"].search([("social_days_since_post", "<=", "thirty")])

    def test_only_senders_build_segments(self):
        Segment = self.env["social.segment"]
        with self.assertRaises(AccessError):
            Segment.with_user(self.social_user).create({"name": "Mine", "domain": "[]"})
        segment = Segment.with_user(self.sender).create({"name": "Mine", "domain": "[('city', '=', 'Lyon')]"})
        self.assertEqual(segment.with_user(self.social_user).member_count, 3)
