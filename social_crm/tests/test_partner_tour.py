from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.social_crm_demo.fake_platforms import MastodonApi


@tagged("post_install", "-at_install")
class TestPartnerTour(HttpCase):
    """A salesperson without Social CRM opens their customer in the browser
    and reads both sides of an exchange pulled from Mastodon over HTTP: what
    the customer asked, what we answered, and the thread it belongs to."""

    def test_contact_timeline_reads_both_sides_and_leads_to_the_thread(self):
        api = MastodonApi(token="tour-token").start()
        self.addCleanup(api.stop)
        jo = api.add_account("jo", "Jo Camper", domain="mastodon.social")
        question = api.post(jo, "Does the Ridge 2 fit two?", tag="tentworks", mention=True)
        answer = api.post(api.owner, "Yes, with room for bags.", reply_to=question, tag="tentworks")
        api.post(jo, "Great, ordering one.", reply_to=answer, tag="tentworks")
        salesman = new_test_user(self.env, login="tour_salesman", groups="sales_team.group_sale_salesman")
        partner = self.env["res.partner"].create(
            {"name": "Jo Camper", "social_handles": "@jo@mastodon.social", "user_id": salesman.id}
        )
        self.env["social.source"].create(
            {
                "name": "Tour hashtag",
                "platform": "mastodon",
                "mode": "hashtag",
                "target": "#tentworks",
                "api_url": api.url,
                "access_token": "tour-token",
                "local_network": True,
            }
        ).action_sync()
        conversation = self.env["social.message"].search([("partner_id", "=", partner.id)]).conversation_id
        conversation.action_handled()

        self.start_tour(f"/odoo/res.partner/{partner.id}", "social_crm_partner_social_tab", login="tour_salesman")
