from odoo.tests import TransactionCase, new_test_user

from odoo.addons.social_crm_demo.fake_platforms import FeedSite, sample_entries


class SocialCrmCase(TransactionCase):
    """Users of each Social CRM group, a second company, and a feed site on
    127.0.0.1 that the sources pull from over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # sources installed with demo data would be pulled by the cron too
        cls.env["social.source"].search([]).action_pause()
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Other Outdoor Co"})
        cls.social_user = cls.make_user("social_user", "social_crm.group_social_crm_user")
        cls.social_manager = cls.make_user("social_manager", "social_crm.group_social_crm_manager")
        cls.site = FeedSite().start()
        cls.addClassCleanup(cls.site.stop)

    @classmethod
    def make_user(cls, login, groups, companies=None):
        """A user of ``groups`` working in ``companies`` (the main one by default)."""
        companies = companies or cls.company
        return new_test_user(
            cls.env, login=login, groups=groups, company_id=companies[:1].id, company_ids=[(6, 0, companies.ids)]
        )

    @classmethod
    def make_source(cls, url, **values):
        return cls.env["social.source"].create(
            {
                "name": values.pop("name", "Test feed"),
                "platform": "feed",
                "mode": "feed",
                "target": url,
                "local_network": True,
                **values,
            }
        )

    @classmethod
    def make_blog(cls, name, count=3, comments=0, fmt="rss2"):
        return cls.site.add_blog(name, sample_entries(count, comments, prefix=name), fmt=fmt)

    def sync_queries(self, source):
        """The SQL queries of one pull of ``source``, caches cold, writes flushed."""
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        source._sync()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def assert_rate_limited(self, source, until):
        """The source waits for the platform's limit, still active, one error counted."""
        self.assertRecordValues(
            source,
            [
                {
                    "state": "active",
                    "error_code": "rate_limited",
                    "error_retryable": True,
                    "error_count": 1,
                    "next_pull_at": until,
                }
            ],
        )

    def messages_of(self, source):
        return self.env["social.message"].search([("source_id", "=", source.id)])
