from datetime import datetime, timedelta, timezone

from odoo.tests import Form, new_test_user, tagged

from odoo.addons.social_crm_demo.fake_platforms import SampleEntry, sample_entries

from .common import SocialCrmCase


@tagged("post_install", "-at_install")
class TestPartnerSocialTab(SocialCrmCase):
    """The Social tab and smart buttons of a customer: what its accounts
    said, counted over the company and its contacts, as the buttons open."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.company_partner = Partner.create({"name": "Trailhead Outfitters", "is_company": True})
        cls.contact = Partner.create({"name": "Jo Walker", "parent_id": cls.company_partner.id})
        cls.address = Partner.create({"name": "Jo's shop", "type": "delivery", "parent_id": cls.contact.id})
        cls.stranger = Partner.create({"name": "Someone else"})
        cls.brand_account = cls.identity("trailhead", cls.company_partner)
        cls.jo_account = cls.identity("jo", cls.contact)
        cls.jo_old_account = cls.identity("jo_old", cls.contact)
        cls.shop_account = cls.identity("jo_shop", cls.address)
        cls.stranger_account = cls.identity("someone", cls.stranger)

        start = datetime(2026, 11, 2, 8, 0)
        # a brand announcement that Jo answers, Jo's own posts, and the shop's posts
        cls.announcement = cls.post("launch", cls.brand_account, start)
        cls.jo_reply = cls.post("launch-r1", cls.jo_account, start + timedelta(hours=1), thread=cls.announcement)
        cls.stranger_reply = cls.post(
            "launch-r2", cls.stranger_account, start + timedelta(hours=2), thread=cls.announcement
        )
        cls.jo_post = cls.post("jo-trip", cls.jo_account, start + timedelta(days=1))
        cls.jo_old_post = cls.post("jo-2019", cls.jo_old_account, start - timedelta(days=900))
        cls.shop_post = cls.post("shop-sale", cls.shop_account, start + timedelta(days=2))
        cls.shop_post_2 = cls.post("shop-hours", cls.shop_account, start + timedelta(days=3))

        Case = cls.env["social.case"]
        cls.brand_case = Case.create(
            {
                "name": "Launch questions",
                "partner_id": cls.company_partner.id,
                "user_id": cls.social_user.id,
                "team_id": False,
            }
        )
        cls.jo_case = Case.create(
            {"name": "Broken pole", "partner_id": cls.contact.id, "user_id": cls.social_manager.id, "team_id": False}
        )

    @classmethod
    def identity(cls, handle, partner):
        return cls.env["social.identity"].create(
            {
                "platform": "feed",
                "external_id": f"blogs.example:{handle}",
                "handle": handle,
                "partner_id": partner.id,
                "link_method": "manual",
                "link_confidence": 1.0,
            }
        )

    @classmethod
    def post(cls, key, author, posted_at, thread=None):
        conversation = (
            thread.conversation_id
            if thread
            else cls.env["social.conversation"].create({"platform": "feed", "thread_key": key})
        )
        return cls.env["social.message"].create(
            {
                "platform": "feed",
                "external_id": key,
                "conversation_id": conversation.id,
                "author_id": author.id,
                "posted_at": posted_at,
                "body": f"<p>{key}</p>",
                "parent_id": thread.id if thread else False,
            }
        )

    def counts(self, partner, user):
        partner = partner.with_user(user)
        return {
            "identities": partner.social_identity_count,
            "messages": partner.social_message_count,
            "conversations": partner.social_conversation_count,
            "cases": partner.social_case_count,
        }

    def test_tab_lists_identities_and_latest_messages(self):
        self.assertEqual(self.contact.social_identity_ids, self.jo_account | self.jo_old_account)
        self.assertEqual(
            self.contact.social_message_ids.ids,
            [self.jo_post.id, self.jo_reply.id, self.jo_old_post.id],
            "newest first",
        )

    def test_counts_include_contacts(self):
        self.assertEqual(
            self.counts(self.contact, self.social_manager),
            {"identities": 3, "messages": 5, "conversations": 5, "cases": 1},
        )
        self.assertEqual(
            self.counts(self.address, self.social_manager),
            {"identities": 1, "messages": 2, "conversations": 2, "cases": 0},
        )

    def test_counts_include_contacts_of_contacts(self):
        """The buttons open ``child_of`` their partner: the shop, a contact of
        a contact, counts on the company as it shows in the lists."""
        self.assertEqual(
            self.counts(self.company_partner, self.social_manager),
            {"identities": 4, "messages": 6, "conversations": 5, "cases": 2},
        )

    def test_conversation_counted_once_per_customer(self):
        """A thread where the company and its contact both speak is one
        conversation with that customer."""
        customer = self.env["res.partner"].create({"name": "Peak Co", "is_company": True})
        employee = self.env["res.partner"].create({"name": "Sam Peak", "parent_id": customer.id})
        post = self.post("peak-1", self.identity("peak", customer), datetime(2026, 11, 3))
        self.post("peak-1-r1", self.identity("sam", employee), datetime(2026, 11, 4), thread=post)
        self.assertEqual(post.conversation_id.partner_ids, customer | employee)
        self.assertEqual(self.counts(customer, self.social_manager)["conversations"], 1)
        self.assertEqual(self.counts(employee, self.social_manager)["conversations"], 1)

    def test_counts_in_batch_match_one_by_one(self):
        """Computed together (a list, an export), a company and its contacts
        each count their whole family."""
        partners = (self.company_partner | self.contact | self.address | self.stranger).with_user(self.social_manager)
        self.assertEqual(partners.mapped("social_identity_count"), [4, 3, 1, 1])
        self.assertEqual(partners.mapped("social_message_count"), [6, 5, 2, 1])
        self.assertEqual(partners.mapped("social_conversation_count"), [5, 5, 2, 1])
        self.assertEqual(partners.mapped("social_case_count"), [2, 1, 0, 0])

    def test_user_counts_only_cases_they_may_see(self):
        self.assertEqual(self.counts(self.company_partner, self.social_user)["cases"], 1)

    def test_buttons_open_what_they_count(self):
        partner = self.contact.with_user(self.social_manager)
        for method, count_field in (
            ("action_view_social_identities", "social_identity_count"),
            ("action_view_social_messages", "social_message_count"),
            ("action_view_social_conversations", "social_conversation_count"),
            ("action_view_social_cases", "social_case_count"),
        ):
            with self.subTest(button=method):
                action = getattr(partner, method)()
                shown = self.env[action["res_model"]].with_user(self.social_manager).search(action["domain"])
                self.assertTrue(shown)
                self.assertEqual(len(shown), partner[count_field])
        action = self.company_partner.action_view_social_conversations()
        self.assertEqual(
            self.env["social.conversation"].search(action["domain"]),
            self.announcement.conversation_id
            | self.jo_post.conversation_id
            | self.jo_old_post.conversation_id
            | self.shop_post.conversation_id
            | self.shop_post_2.conversation_id,
        )
        self.assertNotIn(
            self.stranger_account, self.env["social.identity"].search(partner.action_view_social_identities()["domain"])
        )
        self.assertEqual(partner.action_view_social_cases()["context"], {"default_partner_id": partner.id})

    def test_new_case_from_button_is_for_the_partner(self):
        context = self.company_partner.with_user(self.social_user).action_view_social_cases()["context"]
        case = self.env["social.case"].with_user(self.social_user).with_context(**context).create({"name": "Tent leak"})
        self.assertEqual(case.partner_id, self.company_partner)
        self.assertEqual(self.counts(self.company_partner, self.social_user)["cases"], 2)

    def test_partner_form_for_social_user(self):
        form = Form(self.contact.with_user(self.social_user))
        self.assertEqual(len(form.social_identity_ids), 2)
        self.assertEqual(len(form.social_timeline_ids), 5, "the posts of the contact and of its own contacts")
        self.assertEqual(form.social_message_count, 5)

    def test_partner_form_without_social_crm(self):
        """Salespeople without Social CRM still open and read customers."""
        salesman = new_test_user(self.env, login="plain_salesman", groups="base.group_user")
        partner = self.contact.with_user(salesman)
        form = Form(partner)
        self.assertEqual(form.name, "Jo Walker")
        self.assertNotIn("social_message_count", partner.fields_get())


@tagged("post_install", "-at_install")
class TestLinkIdentityToPartner(SocialCrmCase):
    """Linking an account to a customer brings its whole history onto the
    customer, and what it posts later too."""

    def test_link_brings_past_and_future_messages(self):
        entries = sample_entries(3, comments_per_entry=1, prefix="hike")
        url = self.site.add_blog("hike", entries)
        source = self.make_source(url)
        source.with_user(self.social_manager).action_sync()
        writer = self.env["social.identity"].search([("external_id", "=", "mailto:writer0@blogs.example")])
        self.assertTrue(writer)
        by_writer = self.env["social.message"].search([("author_id", "=", writer.id)])
        self.assertEqual(len(by_writer), 2, "Writer 0 wrote entries 0 and 2")
        customer = self.env["res.partner"].create({"name": "Writer Zero"})
        self.assertFalse(customer.social_message_ids)

        writer.with_user(self.social_user)._link_partner(customer)
        self.assertEqual(customer.social_message_ids, by_writer)
        self.assertEqual(customer.social_identity_ids, writer)
        self.assertEqual(by_writer.conversation_id.mapped("partner_ids"), customer)
        self.assertEqual(
            self.env["social.conversation"].search([("partner_ids", "=", customer.id)]), by_writer.conversation_id
        )
        self.assertEqual(customer.with_user(self.social_user).social_conversation_count, 2)

        entries.insert(
            0,
            SampleEntry(
                id="hike-new",
                title="Winter ascent",
                author="Writer 0",
                email="writer0@blogs.example",
                published=datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc),
                body="<p>Snow everywhere.</p>",
            ),
        )
        source.with_user(self.social_manager).action_sync()
        customer.invalidate_recordset()
        self.assertEqual(
            customer.social_message_ids.mapped("title"),
            ["Winter ascent", "Field notes #2", "Field notes #0"],
            "a post after the link lands on the customer, newest first",
        )

    def test_unlink_takes_messages_off_the_partner(self):
        url = self.make_blog("camp", count=1, comments=2)
        self.make_source(url).with_user(self.social_manager).action_sync()
        reader = self.env["social.identity"].search([("handle", "=", "Reader 0")])
        customer = self.env["res.partner"].create({"name": "Reader Zero"})
        reader._link_partner(customer)
        conversation = customer.social_message_ids.conversation_id
        self.assertEqual(conversation.partner_ids, customer, "the blog's writer has no partner")
        reader.with_user(self.social_user).action_unlink_partner()
        self.assertFalse(customer.social_message_ids)
        self.assertFalse(conversation.partner_ids)
        self.assertEqual(customer.with_user(self.social_user).social_conversation_count, 0)
