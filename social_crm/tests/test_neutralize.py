from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from .common import SocialCrmCase


@tagged("post_install", "-at_install")
class TestNeutralize(SocialCrmCase):
    """A duplicated or staging database keeps no platform secret and pulls
    nothing until someone resumes its sources."""

    def test_neutralize_blanks_credentials_and_pauses_sources(self):
        Source = self.env["social.source"]
        # every text field restricted to system administrators holds a secret
        secret_fields = [
            name
            for name, field in Source._fields.items()
            if field.groups == "base.group_system" and field.type == "char"
        ]
        self.assertIn("access_token", secret_fields)
        secrets = {name: f"{name}-value" for name in secret_fields}
        active = self.make_source(self.make_blog("staging", count=1), name="active", **secrets)
        failing = self.make_source(
            self.make_blog("flaky", count=1),
            name="failing",
            state="error",
            error_code="unavailable",
            bearer_token="bearer-value",
        )
        archived = self.make_source(self.make_blog("old", count=1), name="archived", active=False, **secrets)
        sources = active | failing | archived

        queries = list(get_neutralization_queries(["social_crm"]))
        self.assertEqual(len(queries), 1)
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()

        self.assertRecordValues(sources, [{**dict.fromkeys(secret_fields, False), "state": "paused"}] * 3)
        self.site.requests.clear()
        Source._cron_sync_due()
        self.assertFalse(self.site.requests, "the cron pulls nothing")
        self.assertEqual(sources.mapped("name"), ["active", "failing", "archived"], "the configuration stays")
