from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.social_crm.models import social_message
from odoo.addons.social_crm_demo.fake_platforms import SampleEntry

from .common import SocialCrmCase

START = datetime(2026, 11, 2, 9, 0)


@tagged("post_install", "-at_install")
class TestSentiment(SocialCrmCase):
    """Every inbound message gets a language, and a sentiment where the
    scorer reads the language; the rest is marked not scored."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jo = cls.env["social.identity"].create({"platform": "mastodon", "external_id": "201", "handle": "@jo"})
        cls.sam = cls.env["social.identity"].create({"platform": "mastodon", "external_id": "202", "handle": "@sam"})
        cls.conversation = cls.env["social.conversation"].create({"platform": "mastodon", "thread_key": "t1"})

    def post(self, text, author=None, language=False, at=START, **values):
        """A message stored as a pull stores it, then scored as a pull scores it."""
        message = self.env["social.message"].create(
            {
                "platform": "mastodon",
                "external_id": f"m{self.env['social.message'].search_count([])}-{text[:10]}",
                "conversation_id": values.pop("conversation_id", self.conversation.id),
                "author_id": (author or self.jo).id,
                "body": f"<p>{text}</p>",
                "language": language,
                "posted_at": at,
                **values,
            }
        )
        message._score_sentiment()
        return message

    def test_pull_identifies_languages_and_scores_only_english(self):
        published = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
        texts = {
            "en-bad": ("Leaking tent", "The tent leaked all night, worst purchase ever. Terrible."),
            "en-good": ("Great stove", "Love this stove, it works perfectly and boils water fast. Thank you!"),
            "fr": ("Tente décevante", "Cette tente est vraiment nulle, l'eau est entrée toute la nuit. Je suis déçu."),
            "de": ("Enttäuschendes Zelt", "Das Zelt ist wirklich schlecht, es hat die ganze Nacht geregnet."),
            "ja": ("テント", "このテントは最悪です。一晩中雨漏りしました。"),
        }
        url = self.site.add_blog(
            "moods",
            [
                SampleEntry(id=key, title=title, author="Writer", body=f"<p>{body}</p>", published=published)
                for key, (title, body) in texts.items()
            ],
        )
        source = self.make_source(url)
        self.assertTrue(source._sync())
        messages = {message.title: message for message in self.messages_of(source)}
        self.assertRecordValues(
            messages["Leaking tent"],
            [
                {
                    "language": "en",
                    "language_identified": True,
                    "sentiment_state": "scored",
                    "sentiment_label": "negative",
                }
            ],
        )
        self.assertLess(messages["Leaking tent"].sentiment_score, -0.5)
        self.assertEqual(messages["Great stove"].sentiment_label, "positive")
        for title, language in (("Tente décevante", "fr"), ("Enttäuschendes Zelt", "de"), ("テント", "ja")):
            self.assertRecordValues(
                messages[title],
                [{"language": language, "sentiment_state": "not_scored", "sentiment_label": False}],
            )

    def test_platform_language_is_kept_and_decides(self):
        english_text_tagged_french = self.post("This is awful, I hate it", language="fr")
        self.assertRecordValues(
            english_text_tagged_french,
            [{"language": "fr", "language_identified": False, "sentiment_state": "not_scored"}],
        )
        british = self.post("This is awful, I hate it", language="en-GB")
        self.assertRecordValues(
            british, [{"language": "en-GB", "sentiment_state": "scored", "sentiment_label": "negative"}]
        )
        undetermined = self.post("Brilliant, thanks so much for the quick fix!", language="und")
        self.assertRecordValues(
            undetermined, [{"language": "en", "language_identified": True, "sentiment_label": "positive"}]
        )

    def test_too_short_to_tell_and_empty_are_not_scored(self):
        self.assertRecordValues(self.post("lol"), [{"language": False, "sentiment_state": "not_scored"}])
        self.assertEqual(self.post("", language="en").sentiment_state, "not_scored")

    def test_labels_follow_vader_thresholds(self):
        self.assertEqual(self.post("The pegs arrived on Tuesday.", language="en").sentiment_label, "neutral")
        self.assertEqual(self.post("Good tent.", language="en").sentiment_label, "positive")
        self.assertEqual(self.post("Bad tent.", language="en").sentiment_label, "negative")

    def test_outbound_messages_are_not_scored(self):
        ours = self.post("We are so happy you love it!", language="en", direction="outbound")
        self.assertEqual(ours.sentiment_state, "not_scored")

    def test_rollups_to_conversation_identity_and_contact(self):
        partner = self.env["res.partner"].create({"name": "Jo Walker"})
        self.jo.partner_id = partner
        self.post("I love this tent, great job!", language="en")
        self.post("Terrible support, I am angry.", language="en")
        self.post("Awful zipper, broken again.", language="en", author=self.sam)
        self.post("Tente géniale", language="fr")
        self.env.flush_all()
        self.assertRecordValues(
            self.conversation,
            [{"social_scored_count": 3, "social_positive_count": 1, "social_negative_count": 2}],
        )
        self.assertRecordValues(
            self.jo, [{"social_scored_count": 2, "social_positive_count": 1, "social_negative_count": 1}]
        )
        self.assertRecordValues(
            partner, [{"social_scored_count": 2, "social_positive_count": 1, "social_negative_count": 1}]
        )
        scores = self.jo.message_ids.filtered(lambda m: m.sentiment_state == "scored").mapped("sentiment_score")
        self.assertAlmostEqual(partner.social_sentiment, sum(scores) / 2, places=2)

    def test_rollups_follow_links_and_deletions(self):
        happy = self.post("I love this tent, great job!", language="en")
        self.post("Terrible support, I am angry.", language="en")
        partner = self.env["res.partner"].create({"name": "Jo Walker"})
        self.jo._link_partner(partner, method="manual")
        self.assertRecordValues(partner, [{"social_scored_count": 2, "social_positive_count": 1}])
        other = self.env["social.conversation"].create({"platform": "mastodon", "thread_key": "t2"})
        happy.write({"conversation_id": other.id})
        self.assertRecordValues(self.conversation | other, [{"social_scored_count": 1}, {"social_scored_count": 1}])
        happy.unlink()
        self.assertEqual(other.social_scored_count, 0)
        self.assertEqual(self.jo.social_scored_count, 1)
        self.assertEqual(partner.social_scored_count, 1)
        self.assertEqual(partner.social_negative_count, 1)
        self.jo.action_unlink_partner()
        self.assertRecordValues(partner, [{"social_scored_count": 0, "social_negative_count": 0}])

    @freeze_time("2026-11-30 12:00:00")
    def test_contact_trend_is_weekly(self):
        partner = self.env["res.partner"].create({"name": "Jo Walker"})
        self.jo.partner_id = partner
        now = datetime(2026, 11, 30, 10, 0)
        self.post("Awful, broken, terrible.", language="en", at=now - timedelta(weeks=2))
        self.post("Wonderful, love it, perfect!", language="en", at=now)
        trend = partner.with_user(self.social_user).social_sentiment_trend
        self.assertEqual(len(trend), 12)
        self.assertEqual(trend[-1], "█", "this week: very positive")
        self.assertEqual(trend[-2], "·", "last week: nothing scored")
        self.assertEqual(trend[-3], "▁", "two weeks ago: very negative")

    def test_cron_scores_waiting_messages_in_batches(self):
        Message = self.env["social.message"]
        Message.search([("sentiment_state", "=", "pending")])._score_sentiment()
        waiting = Message.create(
            [
                {
                    "platform": "mastodon",
                    "external_id": f"w{n}",
                    "conversation_id": self.conversation.id,
                    "author_id": self.jo.id,
                    "body": "<p>Great service, thank you!</p>",
                }
                for n in range(5)
            ]
        )
        self.assertEqual(set(waiting.mapped("sentiment_state")), {"pending"})
        with patch.object(social_message, "SCORE_BATCH", 2), patch.object(social_message, "SCORE_BATCHES_PER_RUN", 2):
            self.assertEqual(Message._cron_score_sentiment(), 4)
            self.assertEqual(Message._cron_score_sentiment(), 1)
            self.assertEqual(Message._cron_score_sentiment(), 0)
        self.assertEqual(set(waiting.mapped("sentiment_label")), {"positive"})
        self.assertEqual(self.jo.social_positive_count, 5)

    def test_rescoring_everything_is_for_administrators(self):
        message = self.post("Great service, thank you!", language="en")
        settings = self.env["res.config.settings"].with_user(self.social_manager)
        with self.assertRaises(AccessError):
            settings.create({}).action_social_rescore_sentiment()
        self.env["res.config.settings"].create({}).action_social_rescore_sentiment()
        self.assertEqual(message.sentiment_state, "pending")
        self.env["social.message"]._cron_score_sentiment()
        self.assertEqual(message.sentiment_state, "scored")

    def test_users_cannot_set_a_sentiment(self):
        message = self.post("Great service, thank you!", language="en")
        with self.assertRaises(AccessError):
            message.with_user(self.social_user).write({"sentiment_label": "negative"})
