from datetime import datetime, timezone

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.social_crm_demo.fake_platforms import FeedSite
from odoo.addons.social_crm_demo.fake_platforms.feed_site import SampleComment, SampleEntry


@tagged("post_install", "-at_install")
class TestPartnerTour(HttpCase):
    """A salesperson opens a customer in the browser and sees what the
    customer said on a blog, pulled over HTTP by the source."""

    def test_partner_form_shows_social_history(self):
        published = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
        site = FeedSite().start()
        self.addCleanup(site.stop)
        url = site.add_blog(
            "tour",
            [
                SampleEntry(
                    id="frost",
                    title="Pegs bent in the frost",
                    author="Tour Writer",
                    email="writer@tour.example",
                    published=published,
                    body="<p>Pegs bent in the frost.</p>",
                    comments=[SampleComment("frost-c1", "Helper", "<p>Use the spare pole.</p>", published)],
                )
            ],
        )
        source = self.env["social.source"].create(
            {"name": "Tour blog", "platform": "feed", "mode": "feed", "target": url, "local_network": True}
        )
        source.action_sync()
        partner = self.env["res.partner"].create({"name": "Tour Customer", "email": "writer@tour.example"})
        identity = self.env["social.identity"].search([("email", "=", "writer@tour.example")])
        identity._link_partner(partner, method="email", evidence="Same email")
        new_test_user(
            self.env, login="tour_salesman", groups="social_crm.group_social_crm_user,base.group_partner_manager"
        )

        self.start_tour(f"/odoo/res.partner/{partner.id}", "social_crm_partner_social_tab", login="tour_salesman")
