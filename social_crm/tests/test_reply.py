"""Replying from Odoo: an agent's reply, private message, handoff or closing
note goes through the composer to the loopback platform, which records
exactly what it received; refusals keep the draft with the platform's words;
only those who work the case may reply."""

from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from odoo.addons.social_crm_demo.fake_platforms import BlueskyServer, MastodonApi, Reply, XApi
from odoo.addons.social_crm_demo.fake_platforms.feed_site import SampleComment, SampleEntry

from ..models.platforms import CREDENTIAL_FIELDS
from .test_platform_sync import PlatformSyncCase

MASTODON_TOKEN = "mastodon-s3cret-token"
MESSAGE_LOGGER = "odoo.addons.social_crm.models.social_message"


class ReplyCase(PlatformSyncCase):
    """A support team whose agent works the cases; an outsider of the same
    group works another team's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls.make_user("reply_agent", "social_crm.group_social_crm_user")
        cls.outsider = cls.make_user("reply_outsider", "social_crm.group_social_crm_user")
        cls.team = cls.env["crm.team"].create({"name": "Social support", "member_ids": [(6, 0, cls.agent.ids)]})
        cls.env["crm.team"].create({"name": "Other team", "member_ids": [(6, 0, cls.outsider.ids)]})

    def pulled_source(self, platform, mode, api_url, **values):
        """A source of the team, pulled once."""
        source = self.make_platform_source(platform, mode, api_url, "", team_id=self.team.id, **values)
        source.action_sync()
        self.assertFalse(source.last_error)
        return source

    def open_case(self, source, customer_name):
        """The case of the conversation the customer started, worked by the team."""
        conversation = self.messages_of(source).filtered(
            lambda message: message.author_id.name == customer_name
        ).conversation_id[:1]
        self.assertTrue(conversation)
        author = conversation.post_ids[-1:].author_id
        case = self.env["social.case"].create(
            {"name": "Help", "team_id": self.team.id, "user_id": False, "identity_id": author.id}
        )
        conversation.case_id = case
        return case, conversation

    def compose(self, case, action="action_reply", user=None, **values):
        """The composer as the agent opens it from the case, filled with ``values``."""
        action = getattr(case.with_user(user or self.agent), action)()
        wizard = Form(self.env[action["res_model"]].with_user(user or self.agent).with_context(**action["context"]))
        for name, value in values.items():
            setattr(wizard, name, value)
        return wizard.save()

    def send(self, case, **kwargs):
        return self.compose(case, **kwargs).action_send()

    def chatter(self, thread):
        return "\n".join(thread.message_ids.mapped("body"))


@tagged("post_install", "-at_install")
class TestReplyX(ReplyCase):
    def setUp(self):
        super().setUp()
        self.api = self.serve(XApi())
        acme = self.api.add_user("acme", "Acme Outdoor")
        self.api.connect(acme["id"])
        self.ana = self.api.add_user("anahiker", "Ana Moreau")
        self.question = self.api.add_tweet(self.ana["id"], "@acme my order still says pending")
        credentials = {CREDENTIAL_FIELDS["x"][key]: value for key, value in self.api.credentials("user").items()}
        self.source = self.pulled_source("x", "mentions", f"{self.api.url}/2", **credentials)
        self.case, self.conversation = self.open_case(self.source, "Ana Moreau")

    def test_a_reply_is_published_in_reply_to_the_customers_tweet_and_stored_in_the_thread(self):
        result = self.send(self.case, body="Sorry {name}, {case} is on its way")

        text = f"Sorry Ana Moreau, {self.case.reference} is on its way"
        self.assertEqual(
            self.api.published,
            [{"kind": "tweet", "text": text, "reply": {"in_reply_to_tweet_id": self.question["id"]}}],
        )
        reply = self.conversation.post_ids.filtered(lambda post: post.direction == "outbound")
        question = self.conversation.post_ids.filtered(lambda post: post.external_id == self.question["id"])
        self.assertRecordValues(
            reply, [{"state": "published", "body_text": text, "parent_id": question.id, "create_uid": self.agent.id}]
        )
        self.assertIn(reply.external_id, self.api.tweets)
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertIn("Reply published on X", self.chatter(self.case))
        # the next pull knows it: stored once, outbound
        self.source.action_sync()
        self.assertEqual(self.env["social.message"].search_count([("external_id", "=", reply.external_id)]), 1)

    def test_a_private_message_is_an_x_direct_message_in_a_private_thread_of_the_same_case(self):
        self.send(self.case, action="action_private_message", body="Could you send us your order number?")

        self.assertEqual(
            self.api.published,
            [{"kind": "dm", "participant_id": self.ana["id"], "text": "Could you send us your order number?"}],
        )
        dm = self.case.reply_ids
        self.assertRecordValues(
            dm, [{"state": "published", "visibility": "private", "recipient_id": self.case.identity_id.id}]
        )
        self.assertEqual(dm.conversation_id.thread_key, self.api.dm_events[dm.external_id]["dm_conversation_id"])
        self.assertEqual(dm.conversation_id.case_id, self.case)

    def test_a_reply_in_a_private_x_thread_is_a_direct_message_to_the_customer(self):
        self.api.add_dm(self.ana["id"], self.api.account, "hello, my order?")
        credentials = {CREDENTIAL_FIELDS["x"][key]: value for key, value in self.api.credentials("user").items()}
        dm_source = self.pulled_source("x", "dm", f"{self.api.url}/2", **credentials)
        case, conversation = self.open_case(dm_source, "Ana Moreau")
        self.send(case, body="Checking it now")
        self.assertEqual(
            self.api.published, [{"kind": "dm", "participant_id": self.ana["id"], "text": "Checking it now"}]
        )
        self.assertEqual(case.reply_ids.conversation_id, conversation)

    def test_handoff_posts_the_acknowledgement_then_continues_by_direct_message(self):
        self.send(
            self.case, action="action_handoff", body="We'll take this to DM, {name}", private_body="Your order number?"
        )
        self.assertEqual([item["kind"] for item in self.api.published], ["tweet", "dm"])
        self.assertEqual(self.api.published[0]["reply"], {"in_reply_to_tweet_id": self.question["id"]})
        self.assertEqual(self.api.published[1]["participant_id"], self.ana["id"])
        self.assertEqual(self.case.reply_ids.mapped("state"), ["published", "published"])
        self.assertEqual(sorted(self.case.conversation_ids.mapped("visibility")), ["private", "public"])

    def test_a_refused_direct_message_keeps_its_draft_and_leaves_the_public_thread_public(self):
        self.api.closed_dms.add(self.ana["id"])
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            self.send(self.case, action="action_private_message", body="Your order number?")
        draft = self.case.reply_ids
        self.assertRecordValues(
            draft, [{"state": "failed", "failure_type": "refused", "conversation_id": self.conversation.id}]
        )
        self.assertIn("You cannot send messages to this user", draft.failure_reason)
        self.assertRecordValues(self.conversation, [{"visibility": "public", "post_count": 1}])

    def test_a_refused_acknowledgement_sends_nothing_private(self):
        self.api.add_tweet(self.api.account, "We'll take this to DM")
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            result = self.send(self.case, action="action_handoff", body="We'll take this to DM", private_body="Hi")
        self.assertFalse(self.api.published)
        self.assertRecordValues(self.case.reply_ids, [{"state": "failed", "failure_type": "refused"}])
        self.assertIn("duplicate content", result["params"]["message"])

    def test_a_revoked_token_says_so_and_keeps_the_draft(self):
        self.api.revoke()
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            self.send(self.case, body="Thanks!")
        reply = self.case.reply_ids
        self.assertRecordValues(
            reply, [{"state": "failed", "failure_type": "auth", "external_id": False, "body_text": "Thanks!"}]
        )
        self.assertIn("refused our credentials (HTTP 401: Unauthorized); reconnect the source", reply.failure_reason)
        self.assertIn("reconnect the source", self.chatter(self.case))
        self.api.revoked = False
        reply.with_user(self.agent).action_retry()
        self.assertEqual(reply.state, "published")
        self.assertEqual(self.api.published[0]["text"], "Thanks!")

    def test_an_app_only_source_cannot_publish_and_says_why(self):
        self.source.write({"api_key": False, "api_secret": False, "access_token": False, "access_token_secret": False})
        self.source.bearer_token = self.api.bearer_token
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            self.send(self.case, body="Thanks!")
        self.assertIn("app-only bearer token", self.case.reply_ids.failure_reason)

    def test_an_outage_queues_the_reply_and_the_cron_publishes_it(self):
        self.api.fail_next(Reply(503, '{"title": "Service Unavailable"}', {"Content-Type": "application/json"}))
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            self.send(self.case, body="Thanks for waiting")
        self.assertEqual(self.case.reply_ids.state, "queued")
        self.env["social.message"]._cron_publish_queued()
        self.assertEqual(self.case.reply_ids.state, "published")
        self.assertEqual([item["text"] for item in self.api.published], ["Thanks for waiting"])

    def test_only_who_works_the_case_may_reply(self):
        with self.assertRaises(AccessError):
            self.case.with_user(self.outsider).action_reply()
        wizard = self.compose(self.case, body="hello")
        with self.assertRaises(AccessError):
            wizard.with_user(self.outsider).action_send()
        self.api.revoke()
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            wizard.action_send()
        self.api.revoked = False
        with self.assertRaises(AccessError):
            self.case.reply_ids.with_user(self.outsider).action_retry()
        self.assertFalse(self.api.published)
        self.assertEqual(self.case.reply_ids.state, "failed")

    def test_the_composer_refuses_a_recipient_outside_the_conversation(self):
        stranger = self.env["social.identity"].create({"platform": "x", "external_id": "999", "handle": "stranger"})
        wizard = self.compose(self.case, action="action_private_message", body="hi")
        wizard.recipient_id = stranger
        with self.assertRaises(UserError):
            wizard.action_send()
        self.assertFalse(self.api.published)

    def test_closing_posts_the_public_note_and_closes_the_case(self):
        self.send(self.case, action="action_close_with_note", body="Glad we could help, {handle}!")
        self.assertEqual(self.api.published[0]["text"], "Glad we could help, @anahiker!")
        self.assertTrue(self.case.is_closed)


@tagged("post_install", "-at_install")
class TestReplyMastodon(ReplyCase):
    def setUp(self):
        super().setUp()
        self.api = self.serve(MastodonApi(token=MASTODON_TOKEN))
        self.alice = self.api.add_account("alice", "Alice Brook", domain="fosstodon.org")
        self.question = self.api.post(self.alice, "is the Ridge waterproof?", mention=True, visibility="unlisted")
        self.source = self.pulled_source("mastodon", "mentions", self.api.url, access_token=MASTODON_TOKEN)
        self.case, self.conversation = self.open_case(self.source, "Alice Brook")

    def test_a_reply_mentions_the_author_with_the_visibility_of_the_thread(self):
        self.send(self.case, body="Yes, 3000 mm.")
        self.assertEqual(
            self.api.published,
            [
                {
                    "status": "@alice@fosstodon.org Yes, 3000 mm.",
                    "visibility": "unlisted",
                    "in_reply_to_id": self.question.id,
                }
            ],
        )
        self.assertEqual(self.case.reply_ids.body_text, "@alice@fosstodon.org Yes, 3000 mm.")

    def test_a_private_message_is_a_direct_status_to_the_customer(self):
        self.send(self.case, action="action_private_message", body="Which size?")
        self.assertEqual(self.api.published, [{"status": "@alice@fosstodon.org Which size?", "visibility": "direct"}])
        self.assertIn(":conversation:", self.case.reply_ids.conversation_id.thread_key)

    def test_a_refused_status_keeps_the_draft_with_the_reason_and_is_sent_again_once_edited(self):
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            result = self.send(self.case, body="x" * 501)
        reply = self.case.reply_ids
        self.assertRecordValues(reply, [{"state": "failed", "failure_type": "refused", "external_id": False}])
        self.assertIn("Validation failed: Text character limit of 500 exceeded", reply.failure_reason)
        self.assertIn("Validation failed: Text character limit of 500 exceeded", result["params"]["message"])
        self.assertIn("Text character limit of 500 exceeded", self.chatter(self.case))
        self.assertFalse(self.api.published)

        wizard = Form(
            self.env["social.reply.wizard"].with_user(self.agent).with_context(
                default_conversation_id=self.conversation.id,
                default_case_id=self.case.id,
                default_retry_message_id=reply.id,
                default_parent_id=reply.parent_id.id,
                default_body="Shorter: yes.",
            )
        ).save()
        wizard.action_send()
        self.assertEqual(reply.state, "published")
        self.assertEqual(len(self.case.reply_ids), 1)
        self.assertEqual(self.api.published[0]["status"], "@alice@fosstodon.org Shorter: yes.")
        # both attempts carried the message's one idempotency key: a lost answer is not published twice
        keys = {r.headers.get("idempotency-key") for r in self.api.requests if r.path == "/api/v1/statuses"}
        self.assertEqual(len(keys), 1)
        self.assertTrue(keys.pop().endswith(f"-{reply.id}"))


@tagged("post_install", "-at_install")
class TestReplyBluesky(ReplyCase):
    def setUp(self):
        super().setUp()
        self.api = self.serve(BlueskyServer())
        self.alice = self.api.add_account("alice.bsky.social", "Alice Brook")
        self.root = self.api.add_post(self.api.me, "Our new Ridge 2P is out!")
        self.question = self.api.add_post(self.alice, "Does it fit two @tentworks.example?", reply_to=self.root)
        self.source = self.pulled_source(
            "bluesky", "mentions", self.api.url, auth_login=self.api.me.handle, auth_password=self.api.app_password
        )
        self.case, self.conversation = self.open_case(self.source, "Alice Brook")
        self.partner = self.env["res.partner"].create({"name": "Alice Brook", "email": "alice@example.com"})
        self.case.partner_id = self.partner

    def test_a_reply_names_root_and_parent_by_the_cids_stored_at_the_pull(self):
        self.api.requests.clear()
        self.send(self.case, body="Yes, with room for bags.")
        self.assertEqual(
            self.api.published[0]["reply"],
            {
                "root": {"uri": self.root.uri, "cid": self.root.cid},
                "parent": {"uri": self.question.uri, "cid": self.question.cid},
            },
        )
        self.assertFalse(self.api.calls("app.bsky.feed.getPosts"))
        self.assertEqual(self.case.reply_ids.cid, self.api.posts[self.case.reply_ids.external_id].cid)

    def test_handoff_without_direct_messages_continues_by_email_in_the_same_case(self):
        self.send(
            self.case,
            action="action_handoff",
            body="We'll email you, {name}.",
            private_body="Your order number, please?",
        )
        self.assertEqual(self.api.published[0]["text"], "We'll email you, Alice Brook.")
        email = self.case.message_ids.filtered(
            lambda message: message.message_type == "comment" and message.partner_ids
        )
        self.assertEqual(email.partner_ids, self.partner)
        self.assertIn("Your order number, please?", email.body)
        self.assertIn(self.partner, self.case.message_partner_ids)

    def test_a_post_beyond_300_graphemes_is_refused_before_any_call(self):
        with self.assertLogs(MESSAGE_LOGGER, "WARNING"):
            self.send(self.case, body="a" * 301)
        self.assertIn("at most 300 characters", self.case.reply_ids.failure_reason)
        self.assertFalse(self.api.calls("com.atproto.repo.createRecord"))

    def test_without_direct_messages_nor_email_the_handoff_is_refused_before_anything_is_posted(self):
        self.case.partner_id = False
        with self.assertRaises(UserError):
            self.send(self.case, action="action_handoff", body="to email", private_body="hi")
        self.assertFalse(self.api.published)


@tagged("post_install", "-at_install")
class TestReplyFeed(ReplyCase):
    def test_a_reply_to_a_feed_comment_goes_by_email_to_its_author_or_shows_the_link(self):
        entry = SampleEntry(
            id="leak",
            title="Tent leaks",
            author="Blogger",
            email="blogger@blog.example",
            body="<p>It leaks.</p>",
            published=datetime(2026, 11, 20, 8, 0),
            comments=[SampleComment("leak-c1", "Commenter", "<p>Mine too.</p>", datetime(2026, 11, 20, 9, 0))],
        )
        source = self.make_source(self.site.add_blog("replies", [entry]), team_id=self.team.id)
        source.action_sync()
        case, conversation = self.open_case(source, "Blogger")
        blogger = conversation.post_ids.filtered(lambda post: post.author_id.name == "Blogger")
        wizard = self.compose(case, body="Sorry to hear that", parent_id=blogger)
        self.assertFalse(wizard.can_publish)
        wizard.action_send()
        email = case.message_ids.filtered(lambda message: message.partner_ids)
        self.assertEqual(email.partner_ids.email, "blogger@blog.example")

        commenter = conversation.post_ids.filtered(lambda post: post.author_id.name == "Commenter")
        case.identity_id = commenter.author_id
        wizard = self.compose(case, body="Sorry", parent_id=commenter)
        self.assertFalse(wizard.email_to)
        self.assertTrue(wizard.post_url)
        with self.assertRaisesRegex(UserError, "answer on the site"):
            wizard.action_send()


@tagged("post_install", "-at_install")
class TestCannedReplies(ReplyCase):
    def test_canned_replies_render_placeholders_and_are_offered_per_team(self):
        canned = self.env["mail.canned.response"].create(
            {
                "source": "sorry",
                "substitution": "Sorry {name} ({handle}), see {case}. {0.__class__}",
                "social_team_ids": [(6, 0, self.team.ids)],
            }
        )
        other = self.env["crm.team"].create({"name": "Elsewhere"})
        self.env["mail.canned.response"].create(
            {"source": "other", "substitution": "x", "social_team_ids": [(6, 0, other.ids)]}
        )
        identity = self.env["social.identity"].create(
            {"platform": "x", "external_id": "42", "handle": "anahiker", "name": "Ana"}
        )
        case = self.env["social.case"].create({"name": "Help", "team_id": self.team.id, "identity_id": identity.id})
        conversation = self.env["social.conversation"].create(
            {"platform": "x", "thread_key": "42", "case_id": case.id, "team_id": self.team.id}
        )
        wizard = Form(
            self.env["social.reply.wizard"].with_user(self.agent).with_context(
                default_conversation_id=conversation.id, default_case_id=case.id, default_recipient_id=identity.id
            )
        )
        offered = self.env["mail.canned.response"].search(
            ["|", ("social_team_ids", "=", False), ("social_team_ids", "in", [self.team.id])]
        )
        self.assertIn(canned, offered)
        self.assertNotIn("other", offered.mapped("source"))
        wizard.canned_response_id = canned
        self.assertEqual(wizard.body, f"Sorry Ana (@anahiker), see {case.reference}. {{0.__class__}}")


MAIL = """From: {sender}
To: {to}
Subject: {subject}
Message-ID: <{msg_id}@mail.example>
{extra}Date: Fri, 20 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

{body}
"""


@tagged("post_install", "-at_install")
class TestCaseEmail(ReplyCase):
    """Email as a channel: the case alias opens a case or joins the open case
    of the same contact; answers land in the same case."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        domain = cls.env["mail.alias.domain"].create({"name": "social.example", "company_ids": [(4, cls.company.id)]})
        cls.alias = cls.env.ref("social_crm.mail_alias_social_case")
        cls.alias.alias_domain_id = domain

    def receive(self, subject, body, sender="Ana Moreau <ana@example.com>", msg_id="m1", extra=""):
        raw = MAIL.format(
            sender=sender, to="social-cases@social.example", subject=subject, msg_id=msg_id, extra=extra, body=body
        )
        return self.env["social.case"].browse(self.env["mail.thread"].message_process(False, raw))

    def test_mail_to_the_alias_opens_a_case_then_joins_it(self):
        case = self.receive("My order", "It has not arrived.")
        self.assertRecordValues(case, [{"name": "My order", "is_closed": False}])
        self.assertEqual(case.partner_id.email, "ana@example.com")
        self.assertIn("It has not arrived.", self.chatter(case))

        again = self.receive("Another thing", "Also, the stove.", msg_id="m2")
        self.assertEqual(again, case)
        self.assertIn("Also, the stove.", self.chatter(case))

        case.stage_id = self.env["social.case.stage"].search([("is_closed", "=", True)], limit=1)
        self.assertNotEqual(self.receive("New issue", "Pole broke.", msg_id="m3"), case)

    def test_a_customer_who_moves_from_a_public_post_to_email_stays_in_one_case(self):
        partner = self.env["res.partner"].create({"name": "Ana Moreau", "email": "ana@example.com"})
        case = self.env["social.case"].create({"name": "Public complaint", "partner_id": partner.id})
        self.assertEqual(self.receive("About my tweet", "Here is my order number: 42.", msg_id="m4"), case)

    def test_the_customers_answer_to_an_email_handoff_lands_in_the_case(self):
        partner = self.env["res.partner"].create({"name": "Ana Moreau", "email": "ana@example.com"})
        case = self.env["social.case"].create({"name": "Help", "partner_id": partner.id, "team_id": self.team.id})
        conversation = self.env["social.conversation"].create(
            {"platform": "feed", "thread_key": "https://blog.example/e1", "case_id": case.id}
        )
        wizard = self.compose(case, action="action_private_message", body="Your order number, please?")
        self.assertEqual(wizard.private_channel, "email")
        wizard.action_send()
        sent = case.message_ids.filtered(lambda message: message.partner_ids == partner)
        self.assertTrue(sent.message_id)
        other = self.env["social.case"].create({"name": "Other", "partner_id": partner.id})
        raw = MAIL.format(
            sender="Ana Moreau <ana@example.com>",
            to="catchall@social.example",
            subject="Re: Help",
            msg_id="answer",
            extra=f"In-Reply-To: {sent.message_id}\nReferences: {sent.message_id}\n",
            body="It is 42.",
        )
        self.env["mail.thread"].message_process(False, raw)
        self.assertIn("It is 42.", self.chatter(case))
        self.assertNotIn("It is 42.", self.chatter(other))
        self.assertTrue(conversation)
