from datetime import datetime

from odoo.tests import tagged

from ..channels import Author, Batch, Post
from .common import SocialCrmCase

ANA = "https://mastodon.social/users/ana"


@tagged("post_install", "-at_install")
class TestIdentityEvidence(SocialCrmCase):
    """Pulled accounts become identities, linked to a partner only on
    evidence that is stored with the link; weaker hints wait for review."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mastodon = cls.make_source("@tentworks", name="Mastodon mentions", platform="mastodon", mode="mentions")
        cls.bluesky = cls.make_source("tentworks.example", name="Bluesky mentions", platform="bluesky", mode="mentions")
        cls.x = cls.make_source("@tentworks", name="X mentions", platform="x", mode="mentions")
        cls.feed = cls.make_source("https://blog.tentworks.example/feed", name="Tentworks blog")
        cls.Identity = cls.env["social.identity"]
        cls.Partner = cls.env["res.partner"]
        cls.Suggestion = cls.env["social.identity.suggestion"]

    def store(self, source, *authors, thread="t1"):
        """Store one batch of ``source``, as a pull does: a post per author."""
        posts = tuple(
            Post(
                external_id=f"{source.platform}:{thread}:{author.external_id}",
                thread_key=f"{source.platform}:{thread}",
                author_id=author.external_id,
                body_html=f"<p>Hello from {author.name}</p>",
                posted_at=datetime(2026, 11, 2, 9, 0),
            )
            for author in authors
        )
        source._store_batch(Batch(authors=authors, posts=posts))
        return self.Identity.search(
            [("platform", "=", source.platform), ("external_id", "in", [a.external_id for a in authors])]
        )

    def assert_linked(self, identity, partner, method, confidence, evidence_contains):
        self.assertEqual(identity.partner_id, partner)
        self.assertEqual(identity.link_method, method)
        self.assertAlmostEqual(identity.link_confidence, confidence)
        self.assertIn(evidence_contains, identity.link_evidence)

    def assert_not_linked(self, identity):
        self.assertFalse(identity.partner_id)
        self.assertFalse(identity.link_method)
        self.assertFalse(identity.link_evidence)

    # ------------------------------------------------------------------
    # One identity per account, kept current
    # ------------------------------------------------------------------

    def test_author_becomes_one_identity_kept_current(self):
        identity = self.store(
            self.mastodon,
            Author(
                external_id=ANA,
                handle="ana@mastodon.social",
                name="Ana",
                bio="Hiker",
                avatar_url="https://files.mastodon.social/ana-1.png",
                followers=10,
            ),
        )
        self.assertEqual(len(identity), 1)
        self.assertRecordValues(
            identity,
            [
                {
                    "platform": "mastodon",
                    "handle": "ana@mastodon.social",
                    "name": "Ana",
                    "bio": "Hiker",
                    "avatar_url": "https://files.mastodon.social/ana-1.png",
                    "follower_count": 10,
                    "company_id": self.company.id,
                    "message_count": 1,
                }
            ],
        )

        refreshed = self.store(
            self.mastodon,
            Author(
                external_id=ANA,
                handle="ana_walks@mastodon.social",
                name="Ana W.",
                bio="Hiker, tent maker",
                avatar_url="https://files.mastodon.social/ana-2.png",
                followers=12,
            ),
            thread="t2",
        )
        self.assertEqual(refreshed, identity, "the same account is updated, not duplicated")
        self.assertRecordValues(
            identity,
            [
                {
                    "handle": "ana_walks@mastodon.social",
                    "name": "Ana W.",
                    "bio": "Hiker, tent maker",
                    "avatar_url": "https://files.mastodon.social/ana-2.png",
                    "follower_count": 12,
                    "message_count": 2,
                }
            ],
        )
        self.assertEqual(self.Identity.search_count([("external_id", "=", ANA)]), 1)

        on_bluesky = self.store(self.bluesky, Author(external_id=ANA, handle="ana.bsky.social", name="Ana"))
        self.assertNotEqual(on_bluesky, identity, "an external id is unique per platform only")

    # ------------------------------------------------------------------
    # Links on evidence
    # ------------------------------------------------------------------

    def test_handle_recorded_on_partner_links(self):
        jo = self.Partner.create({"name": "Jo Walker", "social_handles": "@TrailJo\nhttps://example.com/not-jo"})
        identity = self.store(self.x, Author(external_id="1001", handle="trailjo", name="Jo"))
        self.assert_linked(identity, jo, "handle", 0.9, "trailjo")
        self.assertEqual(identity.message_ids.partner_id, jo, "the messages follow the link")

    def test_profile_url_recorded_on_partner_links(self):
        shop = self.Partner.create(
            {
                "name": "Trailhead Outfitters",
                "is_company": True,
                "social_handles": "  HTTPS://Bsky.App/profile/Trailhead.bsky.social/  \n@someone-else",
            }
        )
        identity = self.store(
            self.bluesky,
            Author(
                external_id="did:plc:trailhead",
                handle="trailhead.bsky.social",
                name="Trailhead",
                profile_url="https://bsky.app/profile/trailhead.bsky.social",
            ),
        )
        self.assert_linked(identity, shop, "handle", 0.9, "trailhead.bsky.social")

    def test_mastodon_handle_with_instance_links(self):
        ana = self.Partner.create({"name": "Ana Lopez", "social_handles": "@Ana@Mastodon.Social"})
        identity = self.store(self.mastodon, Author(external_id=ANA, handle="ana@mastodon.social", name="Ana"))
        self.assert_linked(identity, ana, "handle", 0.9, "ana@mastodon.social")

    def test_email_links_case_insensitively(self):
        ana = self.Partner.create({"name": "Ana Lopez", "email": "Ana Lopez <Ana.Lopez@Example.COM>"})
        identity = self.store(
            self.mastodon,
            Author(
                external_id="https://mastodon.social/users/analopez",
                handle="analopez@mastodon.social",
                name="Ana",
                email="ANA.LOPEZ@example.com",
            ),
        )
        self.assert_linked(identity, ana, "email", 0.8, "ANA.LOPEZ@example.com")

    def test_feed_commenter_email_is_only_a_suggestion(self):
        """Anyone can type a customer's email in a comment form."""
        ana = self.Partner.create({"name": "Ana Lopez", "email": "ana.lopez@example.com"})
        identity = self.store(
            self.feed,
            Author(external_id="mailto:ana.lopez@example.com", handle="Ana", name="Ana", email="ana.lopez@example.com"),
        )
        self.assertFalse(identity.partner_id)
        self.assertEqual(identity.suggestion_ids.partner_id, ana)
        self.assertEqual(identity.suggestion_ids.method, "email")
        self.assertEqual(identity.suggestion_ids.state, "pending")

    def test_verified_website_links_the_company(self):
        tentworks = self.Partner.create(
            {"name": "Tentworks", "is_company": True, "website": "https://www.tentworks.example/"}
        )
        on_mastodon = self.store(
            self.mastodon,
            Author(
                external_id="https://mastodon.social/users/tentworks",
                handle="tentworks@mastodon.social",
                name="Tent Works",
                verified_websites=("https://tentworks.example",),
            ),
        )
        self.assert_linked(on_mastodon, tentworks, "website", 0.95, "https://tentworks.example")
        self.assertEqual(on_mastodon.website, "https://tentworks.example")

        on_bluesky = self.store(
            self.bluesky,
            Author(
                external_id="did:plc:tentworks",
                handle="tentworks.example",
                name="Tent Works",
                verified_websites=("https://tentworks.example",),
            ),
        )
        self.assert_linked(on_bluesky, tentworks, "website", 0.95, "https://tentworks.example")

    def test_verified_subdomain_links_the_company_of_its_registrable_domain(self):
        tentworks = self.Partner.create(
            {"name": "Tentworks UK", "is_company": True, "website": "https://www.tentworks.co.uk/en/"}
        )
        identity = self.store(
            self.bluesky,
            Author(
                external_id="did:plc:tentworkssupport",
                handle="support.tentworks.co.uk",
                name="Tentworks support",
                verified_websites=("https://support.tentworks.co.uk",),
            ),
        )
        self.assert_linked(identity, tentworks, "website", 0.95, "https://support.tentworks.co.uk")

    def test_idn_website_links_in_either_spelling(self):
        books = self.Partner.create({"name": "Bücher", "is_company": True, "website": "https://bücher.example"})
        identity = self.store(
            self.mastodon,
            Author(
                external_id="https://mastodon.social/users/buecher",
                handle="buecher@mastodon.social",
                name="Bücher",
                verified_websites=("https://xn--bcher-kva.example/",),
            ),
        )
        self.assert_linked(identity, books, "website", 0.95, "xn--bcher-kva.example")

    def test_site_under_a_hosting_domain_is_evidence_about_its_user_only(self):
        """A handle or verified link on a hosting provider's domain never
        links its user to the provider; it links to a company whose own
        site is that very subdomain."""
        hosts = {
            host: self.Partner.create({"name": host, "is_company": True, "website": f"https://www.{host}/"})
            for host in ("github.io", "blogspot.com", "herokuapp.com", "blacksky.app", "bsky.social", "substack.com")
        }
        self.Partner.create({"name": "GitHub", "is_company": True, "website": "https://github.com"})
        bakery = self.Partner.create(
            {"name": "Carol's bakery", "is_company": True, "website": "https://carol.github.io"}
        )
        on_blacksky = self.store(
            self.bluesky,
            Author(
                external_id="did:plc:carolblacksky",
                handle="carol.blacksky.app",
                name="Carol",
                verified_websites=("https://carol.blacksky.app",),
            ),
        )
        self.assert_not_linked(on_blacksky)
        hosted = [
            Author(
                external_id=f"https://mastodon.social/users/user{n}",
                handle=f"user{n}@mastodon.social",
                name=f"User {n}",
                verified_websites=(site,),
            )
            for n, site in enumerate(
                (
                    "https://someone.blogspot.com/",
                    "https://someone-app.herokuapp.com",
                    "https://someone.substack.com",
                    "https://github.com/someone",  # a page on the host, not the host
                    "https://bsky.social",
                )
            )
        ]
        for identity in self.store(self.mastodon, *hosted):
            self.assert_not_linked(identity)
            self.assertFalse(identity.suggestion_ids)
        carol = self.store(
            self.mastodon,
            Author(
                external_id="https://mastodon.social/users/carol",
                handle="carol@mastodon.social",
                name="Carol",
                verified_websites=("https://carol.github.io/",),
            ),
        )
        self.assert_linked(carol, bakery, "website", 0.95, "https://carol.github.io")
        self.assertNotIn(carol.partner_id, hosts.values())

    def test_unverified_website_does_not_link(self):
        self.Partner.create({"name": "Tentworks", "is_company": True, "website": "https://www.tentworks.example/"})
        identity = self.store(
            self.mastodon,
            Author(
                external_id="https://mastodon.social/users/fan",
                handle="fan@mastodon.social",
                name="Tent fan",
                bio="I love https://tentworks.example",
                profile_url="https://mastodon.social/@fan",
            ),
        )
        self.assert_not_linked(identity)
        self.assertFalse(identity.website)
        self.assertFalse(identity.suggestion_ids)

    def test_name_alone_is_only_a_suggestion(self):
        ana = self.Partner.create({"name": "Ana Lopez"})
        identity = self.store(self.mastodon, Author(external_id=ANA, handle="ana@mastodon.social", name="ana lopez"))
        self.assert_not_linked(identity)
        self.assertRecordValues(
            identity.suggestion_ids, [{"partner_id": ana.id, "method": "name", "state": "pending", "confidence": 0.3}]
        )
        self.assertIn("ana lopez", identity.suggestion_ids.evidence)

    def test_feed_commenter_name_is_not_a_handle(self):
        """A feed has no handles: what it calls one is the name typed in a
        comment form, which must not pass for an account of the partner."""
        self.Partner.create({"name": "Jo Walker", "social_handles": "@trailjo"})
        identity = self.store(
            self.feed, Author(external_id="blog.tentworks.example:trailjo", handle="trailjo", name="trailjo")
        )
        self.assert_not_linked(identity)

    def test_evidence_pointing_to_two_partners_is_suggested_twice(self):
        ana = self.Partner.create({"name": "Ana Lopez", "email": "ana@example.com"})
        ana_at_work = self.Partner.create({"name": "Ana (Tentworks)", "email": "ANA@example.com"})
        identity = self.store(
            self.feed, Author(external_id="mailto:ana@example.com", name="Ana", email="ana@example.com")
        )
        self.assert_not_linked(identity)
        self.assertEqual(identity.suggestion_ids.partner_id, ana | ana_at_work)
        self.assertEqual(set(identity.suggestion_ids.mapped("method")), {"email"})
        self.assertEqual(set(identity.suggestion_ids.mapped("state")), {"pending"})
        for suggestion in identity.suggestion_ids:
            self.assertLess(suggestion.confidence, 0.8, "ambiguous evidence is weaker than a link")
            self.assertIn("ana@example.com", suggestion.evidence)

    def test_strong_evidence_wins_over_ambiguous_evidence(self):
        jo = self.Partner.create({"name": "Jo Walker", "email": "jo@example.com", "social_handles": "@trailjo"})
        self.Partner.create({"name": "Jo Walker (old)", "email": "jo@example.com"})
        identity = self.store(
            self.x, Author(external_id="1001", handle="trailjo", name="Jo Walker", email="jo@example.com")
        )
        self.assert_linked(identity, jo, "handle", 0.9, "trailjo")
        self.assertFalse(identity.suggestion_ids, "a linked identity needs no review")

    def test_linked_identity_keeps_its_partner(self):
        author = Author(external_id=ANA, handle="ana@mastodon.social", name="Ana")
        identity = self.store(self.mastodon, author)
        chosen = self.Partner.create({"name": "Ana Lopez"})
        identity.with_user(self.social_user)._link_partner(chosen)
        self.assert_linked(identity, chosen, "manual", 1.0, self.social_user.name)

        self.Partner.create({"name": "Other Ana", "email": "ana@example.com"})
        self.store(
            self.mastodon,
            Author(external_id=ANA, handle="ana@mastodon.social", name="Ana", email="ana@example.com"),
            thread="t2",
        )
        self.assert_linked(identity, chosen, "manual", 1.0, self.social_user.name)

    # ------------------------------------------------------------------
    # Review
    # ------------------------------------------------------------------

    def test_user_accepts_a_suggestion(self):
        ana = self.Partner.create({"name": "Ana Lopez", "email": "ana@example.com"})
        other = self.Partner.create({"name": "Ana L.", "email": "ana@example.com"})
        identity = self.store(
            self.feed, Author(external_id="mailto:ana@example.com", name="Ana Lopez", email="ana@example.com")
        )

        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_identity_suggestion_action")
        self.assertEqual(action["res_model"], "social.identity.suggestion")
        to_review = self.Suggestion.with_user(self.social_user).search([("state", "=", "pending")])
        self.assertEqual(to_review.partner_id, ana | other)

        to_review.filtered(lambda s: s.partner_id == ana).action_accept()
        self.assert_linked(identity, ana, "manual", 1.0, "Confirmed by")
        self.assertIn("ana@example.com", identity.link_evidence, "the evidence reviewed is kept")
        self.assertEqual(identity.message_ids.partner_id, ana)
        accepted = identity.suggestion_ids.filtered(lambda s: s.partner_id == ana)
        rejected = identity.suggestion_ids - accepted
        self.assertRecordValues(
            accepted | rejected,
            [
                {"state": "accepted", "reviewed_by_id": self.social_user.id},
                {"state": "rejected", "reviewed_by_id": self.social_user.id},
            ],
        )

    def test_rejection_is_remembered(self):
        ana = self.Partner.create({"name": "Ana Lopez", "email": "ana@example.com"})
        author = Author(external_id=ANA, handle="ana@mastodon.social", name="Ana Lopez")
        identity = self.store(self.mastodon, author)
        identity.suggestion_ids.with_user(self.social_user).action_reject()
        self.assertEqual(identity.suggestion_ids.state, "rejected")

        self.store(
            self.mastodon,
            Author(external_id=ANA, handle="ana@mastodon.social", name="Ana Lopez", bio="New bio"),
            thread="t2",
        )
        self.assertEqual(len(identity.suggestion_ids), 1, "not suggested again")
        self.assertEqual(identity.suggestion_ids.state, "rejected")

        # even evidence that would link is overruled by the reviewer
        self.store(
            self.mastodon,
            Author(external_id=ANA, handle="ana@mastodon.social", name="Ana Lopez", email="ana@example.com"),
            thread="t3",
        )
        self.assert_not_linked(identity)
        self.assertEqual(identity.suggestion_ids.mapped("state"), ["rejected"])

        # another partner still gets its chance
        walks = self.Partner.create({"name": "Ana Walks", "social_handles": "@ana@mastodon.social"})
        self.store(self.mastodon, author, thread="t4")
        self.assert_linked(identity, walks, "handle", 0.9, "ana@mastodon.social")
        self.assertNotEqual(identity.partner_id, ana)

    # ------------------------------------------------------------------
    # Partner merge
    # ------------------------------------------------------------------

    def test_merging_partners_keeps_every_identity(self):
        ana = self.Partner.create(
            {"name": "Ana Lopez", "email": "ana@example.com", "social_handles": "@ana@mastodon.social"}
        )
        duplicate = self.Partner.create(
            {"name": "Ana Lopez", "email": "ana@example.com", "social_handles": "@analopez"}
        )
        on_mastodon = self.store(self.mastodon, Author(external_id=ANA, handle="ana@mastodon.social", name="Ana"))
        on_x = self.store(self.x, Author(external_id="2002", handle="analopez", name="Ana"))
        on_feed = self.store(
            self.feed, Author(external_id="mailto:ana@example.com", name="Ana", email="ana@example.com")
        )
        self.assertEqual(on_mastodon.partner_id, ana)
        self.assertEqual(on_x.partner_id, duplicate)
        self.assertFalse(on_feed.partner_id, "two partners share the email: to review")
        on_feed.suggestion_ids.filtered(lambda s: s.partner_id == duplicate).action_accept()
        identities = on_mastodon | on_x | on_feed

        self.env["base.partner.merge.automatic.wizard"]._merge((ana | duplicate).ids, ana)
        self.env.invalidate_all()

        self.assertFalse(duplicate.exists())
        self.assertEqual(identities.exists(), identities)
        self.assertEqual(identities.partner_id, ana)
        self.assertEqual(ana.social_identity_ids, identities)
        self.assertEqual(identities.message_ids.partner_id, ana, "the messages follow their identities")
        self.assertEqual(ana.with_user(self.social_user).social_identity_count, 3)
        self.assertEqual(identities.mapped("link_method"), ["handle", "handle", "manual"])
        self.assertEqual(
            ana.social_handles.splitlines(),
            ["@ana@mastodon.social", "@analopez"],
            "the merged partner keeps both partners' recorded accounts",
        )

    # ------------------------------------------------------------------
    # Scale
    # ------------------------------------------------------------------

    def count_link_queries(self, size, prefix):
        """Queries of linking ``size`` new identities: a quarter on each kind
        of evidence (handle, email, website, name only), some ambiguous."""
        partners = self.Partner.create(
            [
                {
                    "name": f"{prefix} partner {i}",
                    "email": f"{prefix}{i}@example.com",
                    "social_handles": f"@{prefix}_{i}",
                    "is_company": True,
                    "website": f"https://{prefix}{i}.example",
                }
                for i in range(size)
            ]
        )
        twins = range(1, size, 8)  # share an email with partner i: to review
        self.Partner.create([{"name": f"{prefix} twin {i}", "email": f"{prefix}{i}@example.com"} for i in twins])
        identities = self.Identity.create(
            [
                {
                    "platform": "mastodon",
                    "external_id": f"https://mastodon.social/users/{prefix}{i}",
                    "name": f"{prefix} partner {i}" if i % 4 == 3 else f"Someone {i}",
                    "handle": f"{prefix}_{i}" if i % 4 == 0 else f"other_{prefix}_{i}",
                    "email": f"{prefix}{i}@example.com" if i % 4 == 1 else False,
                    "website": f"https://www.{prefix}{i}.example" if i % 4 == 2 else False,
                }
                for i in range(size)
            ]
        )
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        identities._link_by_evidence()
        self.env.flush_all()
        queries = self.env.cr.sql_log_count - before
        linked = [i for i in range(size) if i % 4 != 3 and i not in twins]
        self.assertEqual(identities.partner_id, self.Partner.browse([partners[i].id for i in linked]))
        self.assertEqual(len(identities.suggestion_ids), 2 * len(twins) + len(range(3, size, 4)))
        return queries

    def test_linking_query_count_does_not_grow(self):
        self.count_link_queries(8, "warm")
        small = self.count_link_queries(10, "small")
        large = self.count_link_queries(100, "large")
        self.assertLessEqual(abs(large - small), 3, f"10 identities: {small} queries, 100 identities: {large} queries")
