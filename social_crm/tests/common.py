from odoo.tests import TransactionCase, new_test_user

from ..loopback import FeedSite, sample_entries


class SocialCrmCase(TransactionCase):
    """Users of each Social CRM group, a second company, and a feed site on
    127.0.0.1 that the sources pull from over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Other Outdoor Co"})
        cls.social_user = new_test_user(
            cls.env, login="social_user", groups="social_crm.group_social_crm_user",
            company_id=cls.company.id, company_ids=[(6, 0, cls.company.ids)])
        cls.social_manager = new_test_user(
            cls.env, login="social_manager", groups="social_crm.group_social_crm_manager",
            company_id=cls.company.id, company_ids=[(6, 0, cls.company.ids)])
        cls.site = FeedSite().start()
        cls.addClassCleanup(cls.site.stop)

    @classmethod
    def make_source(cls, url, **values):
        return cls.env["social.source"].create({
            "name": values.pop("name", "Test feed"), "platform": "feed", "mode": "feed",
            "target": url, "local_network": True, **values,
        })

    @classmethod
    def make_blog(cls, name, count=3, comments=0, fmt="rss2"):
        return cls.site.add_blog(name, sample_entries(count, comments, prefix=name), fmt=fmt)

    def messages_of(self, source):
        return self.env["social.message"].search([("source_id", "=", source.id)])
