"""Posts by the company's own account are outbound, whatever the source that
pulls them knows: the connected account, the account whose mentions are
pulled, *Our account* on a search or hashtag source, or another source of the
company on the same platform."""

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.social_crm_demo.fake_platforms import BlueskyServer, MastodonApi, XApi

from ..models.platforms import CREDENTIAL_FIELDS
from .test_platform_sync import NOW, PlatformSyncCase


@tagged("post_install", "-at_install")
class TestXOutbound(PlatformSyncCase):
    """An X search for "acme" read with an app-only token cannot tell which
    tweets are ours; @acme answers customers in the threads it finds."""

    def setUp(self):
        super().setUp()
        self.api = self.serve(XApi.generate(posts=60, authors=12, threads=8, seed=3, page_cap=20))

    def x_source(self, mode="mentions", target="@acme", kind="user", **values):
        credentials = {CREDENTIAL_FIELDS["x"][key]: value for key, value in self.api.credentials(kind).items()}
        url = f"{self.api.url}/2"
        return self.make_platform_source("x", mode, url, target, max_items=1000, **credentials, **values)

    def acme_tweets(self, messages):
        return {key for key in messages if self.api.tweets[key]["author_id"] == self.api.account}

    @freeze_time(NOW)
    def test_our_account_marks_our_tweets_in_a_search_outbound(self):
        search = self.x_source(mode="search", target="acme", kind="bearer", account_handle="@Acme")
        self.sync(search)

        messages = self.stored(search)
        ours = self.acme_tweets(messages)
        self.assertTrue(ours, "@acme answers in the threads the search finds")
        self.assertTrue(ours < set(messages))
        for key, message in messages.items():
            self.assertEqual(message.direction, "outbound" if key in ours else "inbound", key)
        self.assertEqual(search.account_external_id, self.api.account)

        # our account linked to our company: the company is no customer of the thread
        reply = next(messages[key] for key in sorted(ours) if messages[key].parent_id.direction == "inbound")
        customer = reply.parent_id.author_id
        customer.partner_id = self.env["res.partner"].create({"name": "A hiker"})
        reply.author_id.partner_id = self.env.company.partner_id
        self.assertEqual(reply.conversation_id.partner_ids, customer.partner_id)
        by_name = self.env["social.conversation"].search([("partner_ids", "ilike", "hiker")])
        self.assertIn(reply.conversation_id, by_name)
        found = self.env["social.conversation"].search([("partner_ids", "=", self.env.company.partner_id.id)])
        self.assertNotIn(reply.conversation_id, found)

    @freeze_time(NOW)
    def test_a_mentions_source_of_the_company_teaches_the_search_which_account_is_ours(self):
        search = self.x_source(mode="search", target="acme", kind="bearer")
        self.sync(search)
        messages = self.stored(search)
        ours = self.acme_tweets(messages)
        self.assertEqual({messages[key].direction for key in ours}, {"inbound"}, "nothing tells the search")
        self.assertFalse(search.account_external_id)

        mentions = self.x_source()
        self.sync(mentions)
        self.assertEqual(mentions.account_external_id, self.api.account, "the account whose mentions are pulled")
        self.assertEqual({messages[key].direction for key in ours}, {"outbound"}, "what was stored is corrected")
        self.assertEqual({m.direction for k, m in messages.items() if k not in ours}, {"inbound"})
        messages[min(ours)].direction = "inbound"  # as stored before this change, say
        search.cursor = False  # read the same tweets again
        counts = self.counts()
        self.sync(search)
        self.assertEqual(self.counts(), counts, "the same posts, corrected, not duplicated")
        self.assertEqual({messages[key].direction for key in ours}, {"outbound"}, "a re-pull corrects them too")
        self.assertEqual({m.direction for k, m in messages.items() if k not in ours}, {"inbound"})


@tagged("post_install", "-at_install")
class TestMastodonOutbound(PlatformSyncCase):
    """@tentworks answers Jo under #tentworks; the hashtag is public and read
    without a token."""

    def setUp(self):
        super().setUp()
        self.api = self.serve(MastodonApi(token="mastodon-owner-token"))
        self.jo = self.api.add_account("jo", "Jo Camper", domain="mastodon.social", followers=321)
        self.question = self.api.post(self.jo, "Does the Ridge 2 fit two?", tag="tentworks")
        self.answer = self.api.post(self.api.owner, "Yes, with room for bags.", reply_to=self.question, tag="tentworks")
        self.thanks = self.api.post(self.jo, "Great, ordering one.", reply_to=self.answer, tag="tentworks")

    def key(self, status):
        return f"127.0.0.1:{self.api.port}:{status.id}"

    def hashtag_source(self, **values):
        return self.make_platform_source("mastodon", "hashtag", self.api.url, "#tentworks", **values)

    def directions(self, source):
        messages = self.stored(source)
        return [messages[self.key(status)].direction for status in (self.question, self.answer, self.thanks)]

    def test_our_account_on_a_tokenless_hashtag(self):
        source = self.hashtag_source(account_handle=f"@tentworks@127.0.0.1:{self.api.port}")
        self.sync(source)
        self.assertEqual(self.directions(source), ["inbound", "outbound", "inbound"])
        self.assertEqual(source.account_external_id, f"{self.api.url}/users/tentworks")
        self.assertNotIn("/api/v1/accounts/verify_credentials", [request.path for request in self.api.requests])

    def test_the_connected_account_of_another_source_is_ours_on_the_hashtag(self):
        hashtag = self.hashtag_source()
        self.sync(hashtag)
        self.assertEqual(self.directions(hashtag), ["inbound", "inbound", "inbound"])

        mentions = self.make_platform_source(
            "mastodon", "mentions", self.api.url, "@tentworks", access_token="mastodon-owner-token"
        )
        self.sync(mentions)
        self.assertEqual(mentions.account_external_id, f"{self.api.url}/users/tentworks", "verify_credentials")
        hashtag.cursor = False
        self.sync(hashtag)
        self.assertEqual(self.directions(hashtag), ["inbound", "outbound", "inbound"])
        other = self.env["social.source"].create(
            {
                "name": "other company",
                "platform": "mastodon",
                "mode": "hashtag",
                "target": "#tentworks",
                "api_url": self.api.url,
                "local_network": True,
                "company_id": self.other_company.id,
            }
        )
        self.assertNotIn(mentions.account_external_id, other._own_account_ids([]), "another company's account")


@tagged("post_install", "-at_install")
class TestBlueskyOutbound(PlatformSyncCase):
    """The session's DID is our account: a search source records it."""

    def test_the_session_account_is_recorded_and_its_replies_are_outbound(self):
        server = self.serve(BlueskyServer())
        alice = server.add_account("alice.bsky.social", "Alice Brook", "Weekend hiker.", followers=120)
        question = server.add_post(alice, "Is the Ridge 2P from tentworks.example any good?")
        answer = server.add_post(server.me, "@alice.bsky.social the Ridge is good! Ask us anything.", reply_to=question)
        source = self.make_platform_source(
            "bluesky",
            "search",
            server.url,
            "Ridge",
            auth_login=server.me.handle,
            auth_password=server.app_password,
        )
        self.sync(source)

        messages = self.stored(source)
        self.assertEqual(source.account_external_id, server.me.did)
        self.assertEqual([messages[p.uri].direction for p in (question, answer)], ["inbound", "outbound"])
