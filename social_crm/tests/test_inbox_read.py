"""Reading the inbox: a thread read like a conversation, a contact's social
timeline with both sides of each exchange, what a salesperson and the agents
of each team may see, and the small things a user meets on the way. The
data comes from a Mastodon instance on 127.0.0.1: Jo asks in public under
#tentworks and in a direct message, and @tentworks answers both."""

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import MastodonApi, Reply

from .test_platform_sync import NOW, PlatformSyncCase

TOKEN = "mastodon-inbox-token"
PRIVATE = "Order #4412: the zip of my tent broke, can I send it back?"


class InboxCase(PlatformSyncCase):
    def setUp(self):
        super().setUp()
        api = self.api = self.serve(MastodonApi(token=TOKEN))
        self.jo = api.add_account("jo", "Jo Camper", domain="mastodon.social", followers=321)
        self.al = api.add_account("al", "Al Pine", followers=12)
        question = api.post(self.jo, "Does the Ridge 2 fit two?", tag="tentworks", mention=True)
        self.answer = api.post(api.owner, "Yes, with room for bags.", reply_to=question, tag="tentworks")
        api.post(self.jo, "Great, ordering one.", reply_to=self.answer, tag="tentworks")
        api.post(self.al, "Three nights of rain, dry inside.", tag="tentworks")
        dm = api.direct(self.jo, PRIVATE)
        api.direct(api.owner, "Yes: here is your return label.", to=self.jo, reply_to=dm)

        self.agent_a = self.make_user("agent_a", "social_crm.group_social_crm_user")
        self.agent_b = self.make_user("agent_b", "social_crm.group_social_crm_user")
        self.salesman = self.make_user("salesman", "sales_team.group_sale_salesman")
        self.other_salesman = self.make_user("other_salesman", "sales_team.group_sale_salesman")
        self.team_a = self.env["crm.team"].create({"name": "Support A", "member_ids": [(6, 0, self.agent_a.ids)]})
        self.env["crm.team"].create({"name": "Support B", "member_ids": [(6, 0, self.agent_b.ids)]})
        self.customer = self.env["res.partner"].create(
            {"name": "Jo Camper", "social_handles": "@jo@mastodon.social", "user_id": self.salesman.id}
        )
        self.hashtag = self.mastodon_source("hashtag", "#tentworks")
        self.dms = self.mastodon_source("dm", "@tentworks")
        with freeze_time(NOW):
            self.sync(self.hashtag)
            self.sync(self.dms)

    def mastodon_source(self, mode, target):
        return self.make_platform_source(
            "mastodon", mode, self.api.url, target, access_token=TOKEN, team_id=self.team_a.id, name=f"Mastodon {mode}"
        )

    def message(self, text):
        return self.env["social.message"].search([("body_text", "ilike", text)])

    def thread(self, text):
        return self.message(text).conversation_id


@tagged("post_install", "-at_install")
class TestThreadReading(InboxCase):
    def test_text_has_no_link_markers(self):
        question = self.message("Does the Ridge 2")
        self.assertIn("<a ", question.body, "the status links the hashtag and the mention")
        self.assertEqual(question.body_text, "@tentworks Does the Ridge 2 fit two? #tentworks")
        self.assertEqual(question.summary, "@tentworks Does the Ridge 2 fit two? #tentworks")
        self.assertEqual(question.author_id.bio, "Jo Camper likes the outdoors.")

    def test_a_thread_reads_both_sides_in_order(self):
        conversation = self.thread("Does the Ridge 2")
        posts = conversation.post_ids.sorted(lambda post: (post.posted_at, post.id))
        self.assertEqual(
            [(post.author_name, post.direction, post.parent_author_id.name or False) for post in posts],
            [
                ("Jo Camper", "inbound", False),
                ("Tentworks Outdoor Gear", "outbound", "Jo Camper"),
                ("Jo Camper", "inbound", "Tentworks Outdoor Gear"),
            ],
        )
        self.assertEqual(conversation.partner_ids, self.customer, "our account is no customer")
        self.assertEqual(conversation.partner_id, self.customer)
        jo_post = posts[0].with_user(self.agent_a)
        self.assertEqual(
            jo_post.action_open_partner(),
            {
                "type": "ir.actions.act_window",
                "res_model": "res.partner",
                "res_id": self.customer.id,
                "views": [(False, "form")],
                "target": "current",
            },
        )
        self.assertEqual(posts[1].with_user(self.agent_a).action_open_author()["res_model"], "social.identity")
        self.assertEqual(jo_post.action_open_conversation()["res_id"], conversation.id)

    def test_a_case_shows_the_posts_of_its_conversations(self):
        case = self.env["social.case"].create({"name": "Ridge 2", "partner_id": self.customer.id})
        public, private = self.thread("Does the Ridge 2"), self.thread("Order #4412")
        (public | private).case_id = case
        self.assertEqual(case.post_ids, public.post_ids | private.post_ids)
        self.assertEqual(case.post_ids.case_id, case)


@tagged("post_install", "-at_install")
class TestContactTimeline(InboxCase):
    def test_the_timeline_has_both_sides_and_their_threads(self):
        timeline = self.customer.with_user(self.agent_a).social_timeline_ids
        self.assertEqual(
            sorted(timeline.mapped("body_text")),
            sorted(
                [
                    "@tentworks Does the Ridge 2 fit two? #tentworks",
                    "@jo Yes, with room for bags. #tentworks",
                    "@tentworks Great, ordering one. #tentworks",
                    f"@tentworks {PRIVATE}",
                    "@jo Yes: here is your return label.",
                ]
            ),
            "what Jo wrote and what we answered; not Al's review",
        )
        self.assertEqual(timeline.filtered(lambda post: post.direction == "outbound").author_id.handle[:9], "tentworks")

    def test_smart_buttons_open_what_they_count(self):
        partner = self.customer.with_user(self.agent_a)
        self.assertEqual((partner.social_conversation_count, partner.social_message_count), (2, 3))
        self.thread("Does the Ridge 2").action_handled()
        self.env["social.case"].create({"name": "Zip", "partner_id": self.customer.id})
        partner.invalidate_recordset()
        for method, count in (
            ("action_view_social_conversations", partner.social_conversation_count),
            ("action_view_social_messages", partner.social_message_count),
            ("action_view_social_cases", partner.social_case_count),
            ("action_view_social_identities", partner.social_identity_count),
        ):
            action = getattr(partner, method)()
            context = action.get("context") or {}
            self.assertFalse([key for key in context if key.startswith("search_default_")], method)
            opened = self.env[action["res_model"]].with_user(self.agent_a).search_count(action["domain"])
            self.assertEqual(opened, count, method)

    def test_the_contact_chatter_tells_links_and_cases_not_posts(self):
        def notes():
            self.env.flush_all()
            self.env.cr.precommit.run()  # notes of links are written at commit, as tracking
            bodies = self.customer.message_ids.mapped("body")
            return [body for body in bodies if "Social account" in body or "Case" in body]

        self.assertEqual(len(notes()), 1, "the link made by the pull, once for three posts")
        self.assertIn("jo@mastodon.social", notes()[0])
        self.assertIn("records this account", notes()[0])
        case = self.env["social.case"].with_user(self.agent_a).create({"name": "Zip", "partner_id": self.customer.id})
        case.stage_id = self.env["social.case.stage"].search([("is_closed", "=", True)], limit=1)
        self.assertEqual(len(notes()), 3)
        self.assertIn("opened", notes()[1])
        self.assertIn("closed", notes()[0])
        arch = self.env["res.partner"].with_user(self.agent_a).get_views([(False, "form")])["views"]["form"]["arch"]
        tree = etree.fromstring(arch)
        [identities] = tree.xpath("//field[@name='social_identity_ids']/list")
        self.assertEqual(identities.get("delete"), "0", "no trash icon that would delete the account")
        [unlink] = identities.xpath("button[@name='action_unlink_partner']")
        self.assertIn("The account and its posts are kept", unlink.get("confirm"))
        identity = self.message("Does the Ridge 2").author_id
        identity.with_user(self.agent_a).action_unlink_partner()
        self.assertIn("unlinked", notes()[0])
        self.assertTrue(identity.exists(), "unlinking keeps the account")
        self.assertFalse(self.customer.social_identity_ids)


@tagged("post_install", "-at_install")
class TestInboxAccess(InboxCase):
    def visible(self, user, model="social.message"):
        return self.env[model].with_user(user).search([])

    def test_private_threads_are_for_the_source_team_and_managers(self):
        dm = self.message(PRIVATE)
        public = self.message("Three nights")
        for user, sees in ((self.agent_a, True), (self.social_manager, True), (self.agent_b, False)):
            with self.subTest(user=user.login):
                self.assertEqual(dm in self.visible(user), sees)
                self.assertEqual(dm.conversation_id in self.visible(user, "social.conversation"), sees)
                self.assertIn(public, self.visible(user), "public posts are for every agent")
        with self.assertRaises(AccessError):
            dm.with_user(self.agent_b).read(["body"])
        self.assertEqual(len(self.customer.with_user(self.agent_b).social_timeline_ids), 3, "the public exchange")

    def test_a_salesperson_reads_their_customers_history_only(self):
        case = self.env["social.case"].create({"name": "Zip", "partner_id": self.customer.id})
        partner = self.customer.with_user(self.salesman)
        self.assertEqual(len(partner.social_timeline_ids), 3, "the public exchange; the DM is for the team")
        self.assertEqual(partner.social_case_count, 1)
        self.assertEqual(self.visible(self.salesman, "social.case"), case)
        self.assertEqual(
            self.visible(self.salesman, "social.identity").mapped("handle"),
            [f"tentworks@127.0.0.1:{self.api.port}", "jo@mastodon.social"],
            "their customer, and who answered them",
        )
        self.assertNotIn(self.message("Three nights"), self.visible(self.salesman), "not their customer")
        with self.assertRaises(AccessError):
            case.with_user(self.salesman).write({"name": "Mine now"})
        with self.assertRaises(AccessError):
            self.thread("Does the Ridge 2").with_user(self.salesman).action_handled()
        for model in ("social.message", "social.conversation", "social.case", "social.identity"):
            self.assertFalse(self.visible(self.other_salesman, model), model)
        self.team_a.member_ids |= self.salesman
        self.assertEqual(len(partner.with_user(self.salesman).social_timeline_ids), 5, "the team's DMs too")


@tagged("post_install", "-at_install")
class TestSourceFeedback(InboxCase):
    def test_pull_now_says_how_many_posts_came_in_or_why_not(self):
        self.api.post(self.al, "Stakes bent in the frost", tag="tentworks")
        params = self.sync(self.hashtag)["params"]
        self.assertEqual((params["type"], params["message"]), ("success", "1 new posts came in."))
        self.assertEqual(self.sync(self.hashtag)["params"]["message"], "No new posts since the last pull.")

        pulled = self.hashtag.last_pull_at
        self.api.fail("/api/v1/timelines/tag/tentworks", Reply(503, "maintenance"))
        with freeze_time("2026-11-24 08:00:00"), self.assertLogs("odoo.addons.social_crm.models.social_source"):
            params = self.sync(self.hashtag)["params"]
        self.assertEqual(params["type"], "warning")
        self.assertIn("Mastodon hashtag: Platform unavailable.", params["message"])
        self.assertIn("HTTP 503", params["message"])
        self.assertEqual(self.hashtag.last_pull_at, pulled, "a failed pull is no pull")
        self.assertEqual(str(self.hashtag.last_attempt_at), "2026-11-24 08:00:00")

    def test_a_url_that_can_never_work_is_refused_on_save(self):
        with self.assertRaises(ValidationError) as refused:
            self.make_source("not a url")
        self.assertIn("Feed URL of Test feed must be a web address", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            self.hashtag.api_url = "ftp://mastodon.example"
        self.assertIn("API URL of Mastodon hashtag", str(refused.exception))
        self.make_source("https://blog.example/feed.xml")

    def test_conversations_are_found_and_grouped_by_customer(self):
        Conversation = self.env["social.conversation"].with_user(self.agent_a)
        found = Conversation.search([("partner_ids", "ilike", "Jo Camp")])
        self.assertEqual(found, self.thread("Does the Ridge 2") | self.thread("Order #4412"))
        self.assertEqual(Conversation.search([("name", "ilike", "three nights")]), self.thread("Three nights"))
        groups = dict(Conversation._read_group([], ["partner_id"], ["__count"]))
        self.assertEqual(groups[self.customer], 2)
