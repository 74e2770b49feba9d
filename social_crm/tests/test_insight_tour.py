from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInsightTour(HttpCase):
    """A community manager opens the Insight dashboard in the browser and
    finds the detractors and the sentiment trend."""

    def test_dashboard_opens(self):
        identity = self.env["social.identity"].create(
            {"platform": "mastodon", "external_id": "t1", "handle": "@grumpy"}
        )
        conversation = self.env["social.conversation"].create({"platform": "mastodon", "thread_key": "tour"})
        now = datetime.now()
        messages = self.env["social.message"].create(
            [
                {
                    "platform": "mastodon",
                    "external_id": f"tour-{days}",
                    "conversation_id": conversation.id,
                    "author_id": identity.id,
                    "body": "<p>The zipper broke again, terrible quality. I am angry.</p>",
                    "language": "en",
                    "posted_at": now - timedelta(days=days),
                }
                for days in (1, 6, 12)
            ]
        )
        messages._score_sentiment()
        self.env["social.identity"]._cron_compute_social_roles(stale_before=now)
        self.assertEqual(identity.social_role_ids.code, "detractor")
        new_test_user(self.env, login="tour_community", groups="social_crm.group_social_crm_user")
        url = "/odoo/action-social_crm.social_role_dashboard_action"
        self.start_tour(url, "social_crm_insight_dashboard", login="tour_community")
