"""What posts carry besides text, pulled and stored: media as links with
their alt text, link cards, quoted posts, labels and content warnings; a
re-pull updates them; labelled content is folded and remote images never load."""

import hashlib

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.social_crm_demo.fake_platforms import BlueskyServer, MastodonApi, XApi

from ..channels import Post
from ..models.platforms import CREDENTIAL_FIELDS
from .test_platform_sync import MASTODON_TOKEN, PlatformSyncCase

CARD = ("https://tentworks.example/ridge-2p", "Ridge 2P – Tentworks", "A two-person tent for windy ridges.")


def bluesky_thread(server):
    """Our post, an image-only reply, a post labelled by its author and a
    moderation service, and a quote of the reply with a link card."""
    alice = server.add_account("alice.bsky.social", "Alice Brook")
    root = server.add_post(server.me, "Our new Ridge 2P is out!")
    photo = server.add_post(alice, "", reply_to=root, images=(("Tent pole snapped at the joint", 1600, 1200),))
    labelled = server.add_post(alice, "Cut my hand on the broken pole", reply_to=root, self_labels=("graphic-media",))
    server.label(labelled, "!warn")
    quote = server.add_post(alice, "@tentworks.example see my photo", quote=photo)
    return root, photo, labelled, quote


@tagged("post_install", "-at_install")
class TestPostMedia(PlatformSyncCase):
    def setUp(self):
        super().setUp()
        self.server = self.serve(BlueskyServer())

    def bluesky_source(self):
        return self.make_platform_source(
            "bluesky",
            "mentions",
            self.server.url,
            "",
            auth_login=self.server.me.handle,
            auth_password=self.server.app_password,
        )

    def test_bluesky_image_only_reply_labels_and_quote_are_stored_and_shown_safely(self):
        root, photo, labelled, quote = bluesky_thread(self.server)
        source = self.bluesky_source()
        self.sync(source)
        messages = self.stored(source)
        image, hurt, quoting = messages[photo.uri], messages[labelled.uri], messages[quote.uri]
        self.assertEqual(image.parent_id, messages[root.uri])
        self.assertFalse(image.body)
        [medium] = image.media
        self.assertEqual(medium["alt"], "Tent pole snapped at the joint")
        self.assertTrue(medium["url"].startswith("https://cdn.bsky.app/img/feed_fullsize/"))
        self.assertEqual(image.body_text, "[image: Tent pole snapped at the joint]")
        self.assertEqual(image.summary, "[image: Tent pole snapped at the joint]")
        self.assertIn(f'href="{medium["url"]}"', image.content_html)
        self.assertNotIn("<img", image.content_html, "a remote image never loads by itself")
        self.assertRecordValues(
            hurt, [{"labels": "graphic-media, !warn", "is_collapsed": True, "summary": "Hidden: graphic-media, !warn"}]
        )
        self.assertTrue(hurt.content_html.startswith("<details><summary>Hidden: graphic-media, !warn</summary>"))
        self.assertNotIn("Cut my hand", hurt.summary, "a labelled post's text is not shown in lists")
        self.assertEqual((quoting.quoted_external_id, quoting.quoted_message_id), (photo.uri, image))
        self.assertFalse(image.is_collapsed)

    def test_a_repull_updates_labels_and_media_through_the_fingerprint(self):
        _root, photo, labelled, _quote = bluesky_thread(self.server)
        source = self.bluesky_source()
        self.sync(source)
        before = self.stored(source)[labelled.uri].content_hash
        self.server.label(labelled, "graphic-media", labeler=self.server.me.did, negated=True)
        photo.images = (("Pole snapped, sleeve torn", 1600, 1200),)
        source.cursor = False
        self.sync(source)
        messages = self.stored(source)
        self.assertEqual(messages[labelled.uri].labels, "!warn")
        self.assertNotEqual(messages[labelled.uri].content_hash, before)
        self.assertEqual(messages[photo.uri].media[0]["alt"], "Pole snapped, sleeve torn")
        self.assertEqual(messages[photo.uri].body_text, "[image: Pole snapped, sleeve torn]")

    def test_a_text_only_post_keeps_its_fingerprint(self):
        """Posts stored before media were read are not all rewritten on the next pull."""
        post = Post(external_id="1", thread_key="1", author_id="a", body_html="<p>Hi</p>", url="https://x.example/1")
        self.assertEqual(
            self.env["social.message"]._content_hash(post),
            hashlib.sha1("\0<p>Hi</p>\0https://x.example/1".encode()).hexdigest(),
        )

    def test_mastodon_media_card_and_content_warning(self):
        api = self.serve(MastodonApi(token=MASTODON_TOKEN))
        jo = api.add_account("jo", "Jo Camper", domain="fosstodon.org")
        status = api.post(
            jo,
            "Look what happened",
            tag="tentworks",
            spoiler_text="injury",
            media=(("image", "Cut on the palm"),),
            card=CARD,
        )
        source = self.make_platform_source("mastodon", "hashtag", api.url, "#tentworks", access_token=MASTODON_TOKEN)
        self.sync(source)
        [message] = self.messages_of(source)
        self.assertRecordValues(
            message,
            [
                {
                    "content_warning": "injury",
                    "is_sensitive": True,
                    "is_collapsed": True,
                    "link_url": CARD[0],
                    "link_title": CARD[1],
                    "link_description": CARD[2],
                    "summary": "Hidden: injury",
                }
            ],
        )
        self.assertEqual([(m["kind"], m["alt"]) for m in message.media], [("image", "Cut on the palm")])
        self.assertIn(f'href="{CARD[0]}"', message.content_html)
        api.alter_status(status, spoiler_text="", sensitive=False, card=None)
        source.cursor = False
        self.sync(source)
        self.assertRecordValues(
            message, [{"content_warning": False, "is_sensitive": False, "link_url": False, "is_collapsed": False}]
        )

    def test_x_attachments_quoted_tweet_and_sensitive_mark(self):
        api = self.serve(XApi.generate(posts=4, authors=3, threads=1, seed=2))
        someone = next(user_id for user_id in api.users if user_id != api.account)
        quoted = api.add_tweet(someone, "Pitched in 4 minutes")
        photo = api.add_media("photo", alt_text="Broken buckle")
        tweet = api.add_tweet(
            someone, "@acme look", quote_of=quoted["id"], media_keys=[photo], possibly_sensitive=True
        )
        credentials = {CREDENTIAL_FIELDS["x"][key]: value for key, value in api.credentials("user").items()}
        source = self.make_platform_source("x", "mentions", f"{api.url}/2", "@acme", max_items=1000, **credentials)
        self.sync(source)
        messages = self.stored(source)
        message = messages[tweet["id"]]
        self.assertRecordValues(
            message, [{"is_sensitive": True, "quoted_message_id": messages[quoted["id"]].id, "is_collapsed": True}]
        )
        self.assertEqual(message.media[0]["alt"], "Broken buckle")


@tagged("post_install", "-at_install")
class TestPostMediaTour(HttpCase):
    """A user opens a thread: the image-only reply reads as its image's
    alt text, the labelled post is folded until opened."""

    def test_thread_shows_image_only_reply_and_folds_the_labelled_post(self):
        server = BlueskyServer().start()
        self.addCleanup(server.stop)
        root, _photo, _labelled, _quote = bluesky_thread(server)
        source = self.env["social.source"].create(
            {
                "name": "Tour Bluesky",
                "platform": "bluesky",
                "mode": "mentions",
                "target": "@tentworks.example",
                "api_url": server.url,
                "local_network": True,
                "auth_login": server.me.handle,
                "auth_password": server.app_password,
            }
        )
        source.action_sync()
        conversation = self.env["social.conversation"].search([("thread_key", "=", root.uri)])
        new_test_user(self.env, login="tour_media", groups="social_crm.group_social_crm_user")
        self.start_tour(
            f"/odoo/action-social_crm.social_conversation_action/{conversation.id}",
            "social_crm_post_media",
            login="tour_media",
        )
