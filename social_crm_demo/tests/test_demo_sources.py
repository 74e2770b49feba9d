"""What ``make demo`` shows: each demo source pulls its platform from the fake
servers that ``fake_platforms.demo_site`` starts, with the demo data's test
credentials and nothing else."""

from odoo.tests import TransactionCase, tagged

from ..fake_platforms import BlueskyServer, MastodonApi, XApi
from ..fake_platforms.demo_site import DEMO_NETWORK, demo_site

#: the port the demo sources point at (feeds); X, Mastodon and Bluesky use the next three
DEMO_SITE_PORT = 8070


@tagged("post_install", "-at_install")
class TestDemoSources(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # demo_site.main()'s servers, on free ports: 8070-8073 may be taken by a running `make demo`
        cls.servers = [
            demo_site(0),
            XApi.generate(**DEMO_NETWORK),
            MastodonApi.generate(**DEMO_NETWORK),
            BlueskyServer.generate(**DEMO_NETWORK),
        ]
        for server in cls.servers:
            server.start()
            cls.addClassCleanup(server.stop)
        data = cls.env["ir.model.data"].search([("module", "=", "social_crm_demo"), ("model", "=", "social.source")])
        cls.sources = cls.env["social.source"].browse(data.mapped("res_id"))

    def repoint(self, source):
        """``source`` pulling from this test's servers instead of 8070-8073.
        Credentials hold for where they were given: an administrator gives
        them again in the same write that points the source elsewhere."""
        moved = {}
        for offset, server in enumerate(self.servers):
            demo_url = f"http://127.0.0.1:{DEMO_SITE_PORT + offset}"
            for field in ("target", "api_url"):
                if (source[field] or "").startswith(demo_url):
                    moved[field] = source[field].replace(demo_url, server.url, 1)
        credentials = {name: source[name] for name in source._secret_field_names() if source[name]}
        source.write({**moved, **credentials})

    def test_every_platform_has_a_demo_source(self):
        self.assertEqual(set(self.sources.mapped("platform")), {"feed", "x", "mastodon", "bluesky"})
        for source in self.sources:
            self.assertTrue(source.local_network, source.name)
            self.assertRegex(source.api_url or source.target, r"^http://127\.0\.0\.1:807[0-3](/|$)", source.name)

    def test_every_demo_source_pulls_posts(self):
        self.assertEqual(len(self.sources), 6)
        for source in self.sources:
            with self.subTest(source=source.name):
                self.repoint(source)
                source._sync()
                self.assertRecordValues(source, [{"state": "active", "last_error": False}])
                messages = self.env["social.message"].search_count([("source_id", "=", source.id)])
                self.assertGreater(messages, 0)
