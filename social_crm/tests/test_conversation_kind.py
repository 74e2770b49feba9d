from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import SampleComment, SampleEntry

from .common import SocialCrmCase

START = datetime(2026, 11, 5, 9, 0)


@tagged("post_install", "-at_install")
class TestConversationKind(SocialCrmCase):
    """One-to-many: a post to everyone. One-to-one: a private exchange.
    One-to-one-to-many: people answering each other in public."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Identity = cls.env["social.identity"]
        cls.brand = Identity.create({"platform": "mastodon", "external_id": "109001", "handle": "@trailhead"})
        cls.hiker = Identity.create({"platform": "mastodon", "external_id": "109002", "handle": "@jo"})
        cls.climber = Identity.create({"platform": "mastodon", "external_id": "109003", "handle": "@sam"})

    def thread(self, key, *posts):
        """A conversation from ``(author, visibility)`` pairs, oldest first."""
        conversation = self.env["social.conversation"].create({"platform": "mastodon", "thread_key": key})
        self.env["social.message"].create(
            [
                {
                    "platform": "mastodon",
                    "external_id": key if n == 0 else f"{key}-{n}",
                    "conversation_id": conversation.id,
                    "author_id": author.id,
                    "visibility": visibility,
                    "posted_at": START + timedelta(minutes=n),
                    "parent_external_id": False if n == 0 else key,
                    "body": f"<p>post {n}</p>",
                }
                for n, (author, visibility) in enumerate(posts)
            ]
        )
        return conversation

    def test_single_author_public_post_is_one_to_many(self):
        self.assertEqual(self.thread("a1", (self.brand, "public")).kind, "one_to_many")
        self.assertEqual(
            self.thread("a2", (self.brand, "public"), (self.brand, "public")).kind,
            "one_to_many",
            "a thread of one's own posts still speaks to everyone",
        )

    def test_private_exchange_is_one_to_one(self):
        self.assertEqual(self.thread("b1", (self.hiker, "private")).kind, "one_to_one")
        self.assertEqual(self.thread("b2", (self.hiker, "private"), (self.brand, "private")).kind, "one_to_one")

    def test_public_exchange_is_one_to_one_to_many(self):
        conversation = self.thread("c1", (self.brand, "public"), (self.hiker, "public"))
        self.assertEqual(conversation.kind, "one_to_one_to_many")
        self.assertEqual(conversation.participant_ids, self.brand | self.hiker)

    def test_kind_follows_new_posts(self):
        conversation = self.thread("d1", (self.brand, "public"))
        self.assertEqual(conversation.kind, "one_to_many")
        self.env["social.message"].create(
            {
                "platform": "mastodon",
                "external_id": "d1-1",
                "conversation_id": conversation.id,
                "author_id": self.climber.id,
                "posted_at": START + timedelta(hours=1),
                "parent_external_id": "d1",
            }
        )
        self.assertEqual(conversation.kind, "one_to_one_to_many")
        self.env["social.message"].create(
            {
                "platform": "mastodon",
                "external_id": "d1-2",
                "conversation_id": conversation.id,
                "author_id": self.brand.id,
                "visibility": "private",
                "posted_at": START + timedelta(hours=2),
            }
        )
        self.assertEqual(conversation.kind, "one_to_one", "a private answer makes it a private exchange")

    def test_search_by_kind(self):
        broadcast = self.thread("e1", (self.brand, "public"))
        private = self.thread("e2", (self.hiker, "private"))
        public_exchange = self.thread("e3", (self.brand, "public"), (self.climber, "public"))
        # a manager: a private thread of no team is for managers only
        Conversation = self.env["social.conversation"].with_user(self.social_manager)
        keys = ["e1", "e2", "e3"]
        for kind, expected in (
            ("one_to_many", broadcast),
            ("one_to_one", private),
            ("one_to_one_to_many", public_exchange),
        ):
            with self.subTest(kind=kind):
                self.assertEqual(Conversation.search([("thread_key", "in", keys), ("kind", "=", kind)]), expected)

    def test_reply_from_another_author_arrives_with_a_pull(self):
        published = datetime(2026, 11, 10, 18, 0, tzinfo=timezone.utc)
        entry = SampleEntry(
            id="ridge-walk",
            title="Ridge walk",
            author="Alex Moor",
            email="alex@blogs.example",
            published=published,
            body="<p>Windy but worth it.</p>",
        )
        source = self.make_source(self.site.add_blog("ridge", [entry], fmt="atom"))
        source.with_user(self.social_manager).action_sync()
        conversation = self.messages_of(source).conversation_id
        self.assertEqual(len(conversation), 1)
        self.assertEqual(conversation.kind, "one_to_many")

        entry.comments.append(
            SampleComment(
                id="ridge-walk-c0",
                author="Alex Moor",
                email="alex@blogs.example",
                published=published + timedelta(hours=1),
                body="<p>Photos soon.</p>",
            )
        )
        source.with_user(self.social_manager).action_sync()
        self.assertEqual(conversation.post_count, 2)
        self.assertEqual(conversation.kind, "one_to_many", "the writer answering themself")

        entry.comments.append(
            SampleComment(
                id="ridge-walk-c1",
                author="Robin Fell",
                published=published + timedelta(hours=2),
                body="<p>Which trail?</p>",
            )
        )
        source.with_user(self.social_manager).action_sync()
        self.assertEqual(conversation.post_count, 3)
        self.assertEqual(conversation.kind, "one_to_one_to_many")
        self.assertEqual(sorted(conversation.participant_ids.mapped("name")), ["Alex Moor", "Robin Fell"])
        public_exchanges = self.env["social.conversation"].search(
            [("source_id", "=", source.id), ("kind", "=", "one_to_one_to_many")]
        )
        self.assertEqual(public_exchanges, conversation)
