from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..channels import Author, Batch, Post
from .common import SocialCrmCase

ANA = Author(
    external_id="https://mastodon.social/users/ana",
    handle="ana@mastodon.social",
    name="Ana Lopez",
    bio="Tent maker in Lyon",
    email="ana@example.com",
)
BOB = Author(external_id="https://mastodon.social/users/bob", handle="bob@mastodon.social", name="Bob Stone")
CARL = Author(external_id="https://mastodon.social/users/carl", handle="carl@mastodon.social", name="Carl Dune")


def post(key, author, thread=None, at=datetime(2026, 11, 2, 9, 0), text=None):
    return Post(
        external_id=f"mastodon.social:{key}",
        thread_key=f"mastodon.social:{thread or key}",
        author_id=author.external_id,
        parent_id=f"mastodon.social:{thread}" if thread else "",
        body_html=f"<p>{text or key} by {author.name}</p>",
        posted_at=at,
    )


@tagged("post_install", "-at_install")
class TestPrivacy(SocialCrmCase):
    """Erasure on request, and retention of the messages of accounts linked
    to no customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.make_source("@tentworks", name="Mastodon mentions", platform="mastodon", mode="mentions")
        cls.Identity = cls.env["social.identity"]
        cls.Message = cls.env["social.message"]
        cls.Conversation = cls.env["social.conversation"]

    def store(self, *posts, authors=(ANA, BOB, CARL)):
        self.source._store_batch(Batch(authors=authors, posts=posts))

    def identity(self, author):
        return self.Identity.search([("platform", "=", "mastodon"), ("external_id", "=", author.external_id)])

    def conversation(self, key):
        return self.Conversation.search([("thread_key", "=", f"mastodon.social:{key}")])

    # ------------------------------------------------------------------
    # Erasure
    # ------------------------------------------------------------------

    def test_manager_erases_an_account_and_what_it_wrote(self):
        self.env["res.partner"].create({"name": "Ana Lopez"})  # a suggestion to erase too
        self.store(
            post("ana-trip", ANA, text="My secret campsite"),
            post("ana-trip-2", ANA, thread="ana-trip"),
            post("bob-sale", BOB),
            post("bob-sale-ana", ANA, thread="bob-sale"),
            post("ana-question", ANA, text="Ana asks about poles"),
            post("ana-question-bob", BOB, thread="ana-question"),
        )
        ana = self.identity(ANA)
        self.assertEqual(ana.message_count, 4)
        self.assertTrue(ana.suggestion_ids)
        ana_conversation = self.conversation("ana-trip")
        self.assertIn("Ana asks about poles", self.conversation("ana-question").name)

        ana.with_user(self.social_manager).action_erase()

        self.assertFalse(ana.exists())
        self.assertFalse(self.Message.search([("body_text", "ilike", "Ana Lopez")]))
        self.assertFalse(self.env["social.identity.suggestion"].search([("identity_id", "=", ana.id)]))
        self.assertFalse(ana_conversation.exists(), "a conversation left empty goes")
        self.assertEqual(self.conversation("bob-sale").post_ids.mapped("external_id"), ["mastodon.social:bob-sale"])
        answered = self.conversation("ana-question")
        self.assertEqual(answered.post_ids.author_id, self.identity(BOB), "other people's answers stay")
        self.assertNotIn("poles", answered.name, "the conversation no longer shows what the erased account wrote")

        tombstone = self.env["social.identity.erasure"].search([])
        self.assertEqual(len(tombstone), 1)
        self.assertEqual(tombstone.platform, "mastodon")
        self.assertEqual(tombstone.message_count, 4)
        values = str(tombstone.read()[0]).lower()
        for personal in ("ana lopez", "ana@", "users/ana", "lyon", "example.com"):
            self.assertNotIn(personal, values)

    def test_later_pulls_skip_an_erased_account(self):
        self.store(post("ana-1", ANA), post("bob-1", BOB))
        self.identity(ANA).with_user(self.social_manager).action_erase()

        self.store(post("ana-2", ANA), post("bob-2", BOB), post("carl-2", CARL, thread="ana-2"))
        self.assertFalse(self.identity(ANA), "the erased account does not come back")
        self.assertFalse(
            self.Message.search([("external_id", "in", ["mastodon.social:ana-1", "mastodon.social:ana-2"])])
        )
        stored = self.Message.search([("source_id", "=", self.source.id)])
        self.assertEqual(
            sorted(stored.mapped("external_id")),
            ["mastodon.social:bob-1", "mastodon.social:bob-2", "mastodon.social:carl-2"],
        )
        self.assertEqual(self.env["social.identity.erasure"].search_count([]), 1)

    def test_user_cannot_erase(self):
        self.store(post("ana-1", ANA))
        ana = self.identity(ANA)
        with self.assertRaises(AccessError):
            ana.with_user(self.social_user).action_erase()
        self.assertTrue(ana.exists())
        self.assertEqual(ana.message_count, 1)
        self.assertFalse(self.env["social.identity.erasure"].search([]))

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    def run_retention(self):
        self.env.ref("social_crm.ir_cron_social_message_retention").method_direct_trigger()

    def set_retention(self, days):
        self.env["res.config.settings"].create({"social_retention_days": days}).execute()

    def test_retention_deletes_old_messages_of_unlinked_accounts(self):
        self.env["res.partner"].create({"name": "Bob's shop", "social_handles": "@bob@mastodon.social"})
        old, recent = datetime(2026, 10, 1, 9, 0), datetime(2026, 11, 20, 9, 0)
        self.store(
            post("ana-old", ANA, at=old),  # alone in its conversation
            post("carl-old", CARL, at=old),
            post("carl-old-reply", CARL, thread="carl-old", at=recent),
            post("ana-recent", ANA, at=recent),
            post("bob-old", BOB, at=old),
        )
        self.assertTrue(self.identity(BOB).partner_id)
        self.set_retention(30)
        self.assertEqual(self.env["ir.config_parameter"].get_param("social_crm.retention_days"), "30")

        with freeze_time("2026-11-30 12:00:00"):
            self.run_retention()

        kept = self.Message.search([("source_id", "=", self.source.id)])
        self.assertEqual(
            sorted(kept.mapped("external_id")),
            ["mastodon.social:ana-recent", "mastodon.social:bob-old", "mastodon.social:carl-old-reply"],
        )
        self.assertFalse(self.conversation("ana-old"), "an emptied conversation goes")
        self.assertEqual(
            self.conversation("carl-old").post_ids.mapped("external_id"), ["mastodon.social:carl-old-reply"]
        )
        self.assertTrue(self.identity(ANA), "the account stays, only old messages go")

    def test_no_retention_keeps_everything(self):
        ancient = datetime(2016, 1, 1)
        self.store(post("ana-ancient", ANA, at=ancient), post("carl-ancient", CARL, at=ancient))
        self.set_retention(0)
        with freeze_time("2026-11-30 12:00:00"):
            self.run_retention()
        self.assertEqual(len(self.Message.search([("source_id", "=", self.source.id)])), 2)
