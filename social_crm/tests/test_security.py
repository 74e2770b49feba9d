"""Attacks of issue 6, replayed as the least privileged user who could make
them: a Social CRM manager who is no administrator, or a Social CRM user,
over JSON-RPC as the web client would send them; secrets sent to a listener
on 127.0.0.1 that records what it gets; a pull already under way held by
another transaction."""

import json

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import Form, HttpCase, TransactionCase, get_db_name, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.social_crm_demo.fake_platforms import (
    BlueskyServer,
    FeedSite,
    LoopbackServer,
    MastodonApi,
    Reply,
    XApi,
    sample_entries,
)

from ..models.platforms import CREDENTIAL_FIELDS
from .common import SocialCrmCase

SOURCE_LOGGER = "odoo.addons.social_crm.models.social_source"
MASTODON_TOKEN = "mastodon-admin-s3cret"
SECRET_FIELDS = sorted({field for fields_by_key in CREDENTIAL_FIELDS.values() for field in fields_by_key.values()})


class Listener(LoopbackServer):
    """A host of the attacker's choice: records every request and answers
    that the token expired, so that a client tries every secret it holds."""

    def handle(self, _request):
        body = json.dumps({"error": "ExpiredToken", "message": "Token has expired"})
        return Reply(401, body, {"Content-Type": "application/json"})

    def received(self, secrets):
        """The ``secrets`` that reached the listener, in any part of any request."""
        raw = [
            f"{request.path} {request.query} {request.headers} {request.body.decode(errors='replace')}"
            for request in self.requests
        ]
        return {secret for secret in secrets if any(secret in text for text in raw)}


class RpcCase(HttpCase, SocialCrmCase):
    """Calls made over JSON-RPC by a logged-in user, as the web client makes them."""

    def rpc(self, model, method, *args, **kwargs):
        """One call as the web client makes it; the server works in this
        test's transaction, through its own caches."""
        self.env.flush_all()
        try:
            return self.make_jsonrpc_request(
                f"/web/dataset/call_kw/{model}/{method}",
                {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            )
        finally:
            self.env.invalidate_all()

    def assert_refused(self, model, method, *args, **kwargs):
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException) as refused:
            self.rpc(model, method, *args, **kwargs)
        self.assertIn(refused.exception.args[0], ("odoo.exceptions.AccessError", "odoo.exceptions.ValidationError"))

    def serve(self, server):
        server.start()
        self.addCleanup(server.stop)
        return server


@tagged("post_install", "-at_install")
class TestCredentialsStayWhereGiven(RpcCase):
    """A manager who may not read the administrator's credentials points the
    administrator's source at a listener of their own, then pulls now."""

    def setUp(self):
        super().setUp()
        self.listener = self.serve(Listener())
        self.authenticate(self.social_manager.login, self.social_manager.login)

    def admin_sources(self):
        """Sources an administrator connected, each with every secret its
        platform uses (Bluesky: the app password and a session)."""
        x_api = self.serve(XApi.generate(posts=5, authors=2, threads=2, seed=1))
        mastodon = self.serve(MastodonApi(token=MASTODON_TOKEN))
        bluesky = self.serve(BlueskyServer())
        session = bluesky.issue_session()
        x_keys = {**x_api.credentials("user"), **x_api.credentials("bearer")}
        Source = self.env["social.source"]
        common = {"local_network": True, "mode": "mentions"}
        return {
            "x": Source.create(
                {
                    **common,
                    "name": "X",
                    "platform": "x",
                    "target": "@acme",
                    "api_url": f"{x_api.url}/2",
                    **{CREDENTIAL_FIELDS["x"][key]: value for key, value in x_keys.items()},
                }
            ),
            "mastodon": Source.create(
                {
                    **common,
                    "name": "Mastodon",
                    "platform": "mastodon",
                    "target": "@tentworks",
                    "api_url": mastodon.url,
                    "access_token": MASTODON_TOKEN,
                }
            ),
            "bluesky": Source.create(
                {
                    **common,
                    "name": "Bluesky",
                    "platform": "bluesky",
                    "target": "@tentworks.example",
                    "api_url": bluesky.url,
                    "auth_login": bluesky.me.handle,
                    "auth_password": bluesky.app_password,
                    "session_token": session["access_jwt"],
                    "refresh_token": session["refresh_jwt"],
                }
            ),
        }

    @staticmethod
    def secrets_of(source):
        values = source.sudo().read(SECRET_FIELDS)[0]
        return {value for name, value in values.items() if name in SECRET_FIELDS and value}

    def pull_now(self, source):
        with mute_logger(SOURCE_LOGGER):
            self.rpc("social.source", "action_sync", [source.id])

    def assert_nothing_to_send(self, source, secrets):
        self.assertFalse(self.listener.received(secrets), "no credential reached the listener")
        self.assertFalse([r for r in self.listener.requests if "authorization" in r.headers])
        source.invalidate_recordset()
        self.assertFalse(self.secrets_of(source), "the credentials are gone until an administrator reconnects")

    def test_api_url_moved_by_a_manager_takes_no_credential_along(self):
        for platform, source in self.admin_sources().items():
            with self.subTest(platform=platform):
                secrets = self.secrets_of(source)
                self.assertEqual(len(secrets), len(CREDENTIAL_FIELDS[platform]))
                url = f"{self.listener.url}/2" if platform == "x" else self.listener.url
                self.rpc("social.source", "write", [source.id], {"api_url": url})
                self.pull_now(source)
                self.assert_nothing_to_send(source, secrets)
                self.assertEqual(source.state, "error", "the next pull asks to reconnect the source")

    def test_platform_changed_by_a_manager_takes_no_credential_along(self):
        """X to Mastodon sent the X access token as a Mastodon bearer token,
        whether the API URL was set in the same write or after the platform
        had reset it."""
        for writes in (
            [{"platform": "mastodon", "api_url": self.listener.url}],
            [{"platform": "mastodon"}, {"api_url": self.listener.url}],
        ):
            with self.subTest(writes=writes):
                source = self.admin_sources()["x"]
                secrets = self.secrets_of(source)
                for vals in writes:
                    self.rpc("social.source", "write", [source.id], vals)
                self.pull_now(source)
                self.assert_nothing_to_send(source, secrets)

    def test_the_form_warns_before_clearing_the_credentials(self):
        source = self.admin_sources()["mastodon"]
        form = Form(source.with_user(self.social_manager))
        with self.assertLogs("odoo.tests.form.onchange", "WARNING") as logs:
            form.api_url = self.listener.url
        self.assertIn("Credentials will be cleared", logs.output[0])
        form.save()
        self.assertFalse(self.secrets_of(source))

    def test_local_network_cannot_be_given_by_create_or_copy(self):
        """A manager may not let a source reach the loopback or private
        network (here the listener) by creating or copying it."""
        blog = {"name": "Intranet", "platform": "feed", "mode": "feed", "target": f"{self.listener.url}/feed"}
        self.assert_refused("social.source", "create", [{**blog, "local_network": True}])
        self.assert_refused("social.source", "create", [blog], context={"default_local_network": True})
        public = self.env["social.source"].create({**blog, "target": "https://blog.example/feed"})
        self.assert_refused("social.source", "copy", [public.id], default={**blog, "local_network": True})

        source_ids = self.rpc("social.source", "create", [blog])
        self.pull_now(self.env["social.source"].browse(source_ids))
        self.assertFalse(self.listener.requests, "without the permission the loopback network is out of reach")

    def test_administrator_reconnects_in_the_same_write(self):
        admin = new_test_user(
            self.env, login="sec_sysadmin", groups="base.group_system,social_crm.group_social_crm_manager"
        )
        source = self.admin_sources()["mastodon"]
        source.with_user(admin).write({"api_url": "https://social.example", "access_token": "new-token"})
        self.assertRecordValues(source, [{"access_token": "new-token", "local_network": True}])
        source = self.admin_sources()["x"]
        source.with_user(admin).write({"platform": "mastodon", "access_token": "new-token"})
        self.assertEqual(self.secrets_of(source), {"new-token"}, "the X keys not given again are gone")


@tagged("post_install", "-at_install")
class TestLinksAndCompanies(RpcCase):
    """A Social CRM user of the main company and of team A tries to reach
    other teams' and other companies' records through what they may edit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Team = cls.env["crm.team"].with_context(tracking_disable=True)
        cls.team_a = Team.create({"name": "Team A", "member_ids": [(6, 0, cls.social_user.ids)]})
        cls.team_b = Team.create({"name": "Team B"})
        Case = cls.env["social.case"]
        cls.own_case = Case.create({"name": "Torn fly sheet", "team_id": cls.team_a.id, "user_id": False})
        cls.other_team_case = Case.create({"name": "Secret B", "team_id": cls.team_b.id, "user_id": False})
        cls.other_company_case = Case.create(
            {"name": "Secret of company 2", "company_id": cls.other_company.id, "team_id": False, "user_id": False}
        )
        cls.conversation = cls.env["social.conversation"].create(
            {"platform": "feed", "thread_key": "sec-thread", "company_id": cls.company.id, "team_id": cls.team_a.id}
        )
        cls.identity = cls.env["social.identity"].create(
            {"platform": "feed", "external_id": "mailto:jo@blogs.example", "company_id": cls.company.id}
        )

    def setUp(self):
        super().setUp()
        self.authenticate(self.social_user.login, self.social_user.login)

    def test_user_cannot_link_a_case_they_may_not_read(self):
        for case in (self.other_company_case, self.other_team_case):
            with self.subTest(case=case.name):
                self.assert_refused("social.conversation", "write", [self.conversation.id], {"case_id": case.id})
                [values] = self.rpc("social.conversation", "read", [self.conversation.id], ["case_id"])
                self.assertFalse(values["case_id"], "nothing of the case shows through the conversation")
        self.rpc("social.conversation", "write", [self.conversation.id], {"case_id": self.own_case.id})
        self.assertEqual(self.conversation.case_id, self.own_case, "a case of the user's team links")

    def test_user_cannot_link_a_partner_of_another_company(self):
        other = self.env["res.partner"].create({"name": "Customer of company 2", "company_id": self.other_company.id})
        self.assert_refused("social.identity", "write", [self.identity.id], {"partner_id": other.id})
        self.assert_refused("social.case", "write", [self.own_case.id], {"partner_id": other.id})
        [values] = self.rpc("social.identity", "read", [self.identity.id], ["partner_id"])
        self.assertFalse(values["partner_id"])

    def test_a_case_links_only_conversations_of_its_company(self):
        companies = self.company | self.other_company
        both = self.make_user("sec_both_companies", "social_crm.group_social_crm_manager", companies)
        conversation = self.conversation.with_user(both).with_context(allowed_company_ids=companies.ids)
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            conversation.write({"case_id": self.other_company_case.id})

    def test_user_cannot_move_a_conversation_to_another_company(self):
        self.assert_refused(
            "social.conversation", "write", [self.conversation.id], {"company_id": self.other_company.id}
        )
        self.assert_refused("social.conversation", "write", [self.conversation.id], {"company_id": False})
        self.assertEqual(self.conversation.company_id, self.company)

    def test_user_cannot_share_a_company_identity(self):
        self.assert_refused("social.identity", "write", [self.identity.id], {"company_id": False})
        self.assert_refused("social.identity", "write", [self.identity.id], {"company_id": self.other_company.id})
        self.assertEqual(self.identity.company_id, self.company)
        self.identity.with_user(self.social_manager).write({"company_id": False})
        self.assertFalse(self.identity.company_id, "a manager may share an identity, as the sync does")

    def test_manager_cannot_move_a_message_to_another_company(self):
        other = self.env["social.conversation"].create(
            {"platform": "feed", "thread_key": "sec-other", "company_id": self.other_company.id}
        )
        message = self.env["social.message"].create(
            {"platform": "feed", "external_id": "sec-post", "conversation_id": self.conversation.id}
        )
        self.authenticate(self.social_manager.login, self.social_manager.login)
        self.assert_refused("social.message", "write", [message.id], {"conversation_id": other.id})
        self.assert_refused("social.message", "write", [message.id], {"company_id": self.other_company.id})
        self.assertEqual(message.company_id, self.company)


@tagged("post_install", "-at_install")
class TestPullNowTakesTheLock(TransactionCase):
    """Pull now while another transaction (the cron, a first click) holds
    the source. The row must be committed for another transaction to lock
    it: it is, before this class's transaction starts, and deleted after."""

    @classmethod
    def setUpClass(cls):
        cls.site = FeedSite().start()
        cls.addClassCleanup(cls.site.stop)
        cls.site.add_blog("locked", sample_entries(2, prefix="locked"))
        with Registry(get_db_name()).cursor() as cr:
            source = api.Environment(cr, SUPERUSER_ID, {})["social.source"].create(
                {
                    "name": "Locked feed",
                    "target": f"{cls.site.url}/locked/feed",
                    "local_network": True,
                    "state": "paused",  # out of the way of the cron tests
                }
            )
            cls.source_id = source.id
        cls.addClassCleanup(cls.delete_committed_source)
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="sec_lock_manager", groups="social_crm.group_social_crm_manager")

    @classmethod
    def delete_committed_source(cls):
        with Registry(get_db_name()).cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["social.source"].browse(cls.source_id).unlink()

    def test_pull_now_refuses_while_another_transaction_pulls(self):
        source = self.env["social.source"].browse(self.source_id).with_user(self.manager)
        # a pull that did not take the lock would wait for the other one forever
        self.env.cr.execute("SET LOCAL lock_timeout = '3s'")
        with self.registry.cursor() as other:
            other.execute("SELECT id FROM social_source WHERE id = %s FOR NO KEY UPDATE", [self.source_id])
            with self.assertRaisesRegex(UserError, "A pull of Locked feed is already running"):
                source.action_sync()
            other.rollback()
        self.assertFalse(self.site.requests, "nothing fetched, nothing billed")

        source.action_sync()
        self.assertTrue(self.site.requests, "once the other pull is over, Pull now pulls")
