from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SocialCrmCase

SECRETS = (
    "auth_login",
    "auth_password",
    "access_token",
    "access_token_secret",
    "api_key",
    "api_secret",
    "bearer_token",
    "session_token",
    "refresh_token",
)
CREDENTIALS = (*SECRETS, "local_network")
#: every model whose records belong to a company
MODELS = (
    "social.source",
    "social.identity",
    "social.conversation",
    "social.message",
    "social.case",
    "social.identity.suggestion",
)


@tagged("post_install", "-at_install")
class TestSourceCredentials(SocialCrmCase):
    """Secrets of a source are for system administrators only: a Social CRM
    manager configures sources without ever seeing them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system_admin = cls.make_user("social_sysadmin", "base.group_system,social_crm.group_social_crm_manager")
        cls.secrets = {name: f"{name}-value" for name in SECRETS}
        cls.source = cls.make_source("https://social.example/feed", name="Partner API", **cls.secrets)

    def test_user_cannot_read_credentials(self):
        source = self.source.with_user(self.social_user)
        self.assertEqual(source.name, "Partner API", "a user reads the rest of the source")
        for name in CREDENTIALS:
            with self.subTest(field=name), self.assertRaises(AccessError):
                source.read([name])
        self.assertRaises(AccessError, getattr, source, "access_token")
        with self.assertRaises(AccessError, msg="searching on a secret would leak it a character at a time"):
            source.search([("access_token", "=like", "access%")])
        self.assertFalse(set(CREDENTIALS) & set(source.fields_get()))
        self.assertNotIn("access_token", source.read()[0], "reading all fields leaves the secrets out")

    def test_manager_cannot_read_credentials(self):
        source = self.source.with_user(self.social_manager)
        self.assertFalse(set(CREDENTIALS) & set(source.fields_get()))
        for name in CREDENTIALS:
            with self.subTest(field=name), self.assertRaises(AccessError):
                source.read([name])
        with self.assertRaises(AccessError):
            source.write({"access_token": "stolen"})

    def test_system_admin_reads_and_sets_credentials(self):
        source = self.source.with_user(self.system_admin)
        self.assertLessEqual(set(CREDENTIALS), set(source.fields_get()))
        self.assertEqual(
            source.read(list(CREDENTIALS))[0], {"id": self.source.id, **self.secrets, "local_network": True}
        )
        source.write({"access_token": "tok-rotated"})
        self.assertEqual(self.source.access_token, "tok-rotated")

    def test_credentials_are_not_copied(self):
        copy = self.source.copy()
        self.assertRecordValues(copy, [dict.fromkeys(CREDENTIALS, False)])

    def test_user_cannot_create_or_edit_sources(self):
        Source = self.env["social.source"].with_user(self.social_user)
        with self.assertRaises(AccessError):
            Source.create({"name": "Mine", "target": "https://blog.example/feed"})
        with self.assertRaises(AccessError):
            self.source.with_user(self.social_user).write({"interval_minutes": 1})
        with self.assertRaises(AccessError, msg="pulling now is an edit of the source"):
            self.source.with_user(self.social_user).action_sync()
        with self.assertRaises(AccessError):
            self.source.with_user(self.social_user).unlink()

    def test_manager_creates_and_edits_sources(self):
        source = (
            self.env["social.source"]
            .with_user(self.social_manager)
            .create({"name": "Forum", "target": "https://forum.example/feed"})
        )
        source.write({"interval_minutes": 60})
        source.action_pause()
        self.assertRecordValues(source, [{"interval_minutes": 60, "state": "paused", "company_id": self.company.id}])


@tagged("post_install", "-at_install")
class TestMultiCompany(SocialCrmCase):
    """What another company pulled stays in that company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.records = {}
        for key, company in (("own", cls.company), ("other", cls.other_company)):
            source = cls.make_source(f"https://{key}.example/feed", name=f"{key} feed", company_id=company.id)
            identity = cls.env["social.identity"].create(
                {"platform": "feed", "external_id": f"mailto:{key}@blogs.example", "company_id": company.id}
            )
            conversation = cls.env["social.conversation"].create(
                {"platform": "feed", "thread_key": f"{key}-post", "source_id": source.id, "company_id": company.id}
            )
            message = cls.env["social.message"].create(
                {
                    "platform": "feed",
                    "external_id": f"{key}-post",
                    "conversation_id": conversation.id,
                    "author_id": identity.id,
                    "source_id": source.id,
                    "body": f"<p>{key} post</p>",
                }
            )
            # assigned to the user, so that only the company rule may hide it
            case = cls.env["social.case"].create(
                {"name": f"{key} case", "company_id": company.id, "user_id": cls.social_user.id, "team_id": False}
            )
            # a link to review shows the account and the partner it may be
            suggestion = cls.env["social.identity.suggestion"].create(
                {
                    "identity_id": identity.id,
                    "partner_id": cls.env["res.partner"].create({"name": f"{key} customer"}).id,
                    "method": "name",
                    "confidence": 0.3,
                }
            )
            cls.records[key] = {
                "social.source": source,
                "social.identity": identity,
                "social.conversation": conversation,
                "social.message": message,
                "social.case": case,
                "social.identity.suggestion": suggestion,
            }
        cls.shared_identity = cls.env["social.identity"].create(
            {"platform": "feed", "external_id": "mailto:shared@blogs.example", "company_id": False}
        )
        cls.both_companies_user = cls.make_user(
            "social_user_both", "social_crm.group_social_crm_user", cls.company | cls.other_company
        )

    def visible(self, user, model, **context):
        ids = [records[model].id for records in self.records.values()]
        return self.env[model].with_user(user).with_context(**context).search([("id", "in", ids)])

    def test_user_sees_only_own_company(self):
        for model in MODELS:
            with self.subTest(model=model):
                self.assertEqual(self.visible(self.social_user, model), self.records["own"][model])

    def test_other_company_record_cannot_be_read(self):
        for model in ("social.conversation", "social.message", "social.case", "social.identity.suggestion"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.records["other"][model].with_user(self.social_user).read(["display_name"])

    def test_user_of_both_companies_follows_selected_companies(self):
        for records in self.records.values():
            records["social.case"].user_id = self.both_companies_user
        for model in MODELS:
            with self.subTest(model=model):
                both = self.records["own"][model] | self.records["other"][model]
                self.assertEqual(self.visible(self.both_companies_user, model), both)
                self.assertEqual(
                    self.visible(self.both_companies_user, model, allowed_company_ids=self.other_company.ids),
                    self.records["other"][model],
                )

    def test_shared_identity_visible_to_every_company(self):
        Identity = self.env["social.identity"].with_user(self.social_user)
        self.assertEqual(
            Identity.search([("external_id", "like", "@blogs.example")]),
            self.shared_identity | self.records["own"]["social.identity"],
        )
        only_other = (
            Identity.with_context(allowed_company_ids=self.other_company.ids)
            .with_user(self.both_companies_user)
            .search([("external_id", "like", "@blogs.example")])
        )
        self.assertEqual(only_other, self.shared_identity | self.records["other"]["social.identity"])

    def test_conversation_without_company_visible(self):
        conversation = self.env["social.conversation"].create(
            {"platform": "feed", "thread_key": "companyless", "company_id": False}
        )
        self.assertEqual(
            self.env["social.conversation"].with_user(self.social_user).search([("thread_key", "=", "companyless")]),
            conversation,
        )


@tagged("post_install", "-at_install")
class TestCaseVisibility(SocialCrmCase):
    """A user works the cases of their teams and their own; a manager sees all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = cls.make_user("social_colleague", "social_crm.group_social_crm_user")
        Team = cls.env["crm.team"].with_context(tracking_disable=True)
        cls.member_team = Team.create({"name": "Support EU", "member_ids": [(6, 0, cls.social_user.ids)]})
        cls.led_team = Team.create({"name": "Support US", "user_id": cls.social_user.id})
        cls.other_team = Team.create({"name": "Support APAC", "member_ids": [(6, 0, cls.colleague.ids)]})
        Case = cls.env["social.case"]
        cls.member_case = Case.create({"name": "Zip broke", "team_id": cls.member_team.id, "user_id": cls.colleague.id})
        cls.led_case = Case.create({"name": "Late parcel", "team_id": cls.led_team.id, "user_id": False})
        cls.own_case = Case.create({"name": "Wrong size", "team_id": cls.other_team.id, "user_id": cls.social_user.id})
        cls.others_case = Case.create({"name": "Refund", "team_id": cls.other_team.id, "user_id": cls.colleague.id})
        cls.orphan_case = Case.create({"name": "Spam?", "team_id": False, "user_id": False})
        cls.all_cases = cls.member_case | cls.led_case | cls.own_case | cls.others_case | cls.orphan_case

    def cases_seen_by(self, user):
        return self.env["social.case"].with_user(user).search([("id", "in", self.all_cases.ids)])

    def test_user_sees_team_and_own_cases(self):
        self.assertEqual(self.cases_seen_by(self.social_user), self.member_case | self.led_case | self.own_case)
        self.assertEqual(self.cases_seen_by(self.colleague), self.member_case | self.own_case | self.others_case)
        with self.assertRaises(AccessError):
            self.others_case.with_user(self.social_user).read(["name"])
        with self.assertRaises(AccessError):
            self.orphan_case.with_user(self.social_user).write({"priority": "3"})

    def test_leaving_a_team_hides_its_cases(self):
        self.member_team.write({"member_ids": [(5, 0, 0)]})
        self.assertNotIn(self.member_case, self.cases_seen_by(self.social_user))

    def test_manager_sees_all_cases(self):
        self.assertEqual(self.cases_seen_by(self.social_manager), self.all_cases)

    def test_user_moves_a_case_stage(self):
        solved = self.env.ref("social_crm.social_case_stage_solved")
        case = self.member_case.with_user(self.social_user)
        case.write({"stage_id": solved.id})
        self.assertRecordValues(self.member_case, [{"stage_id": solved.id, "is_closed": True}])

    def test_user_creates_own_case_but_not_stages(self):
        case = self.env["social.case"].with_user(self.social_user).create({"name": "Seen on Mastodon"})
        self.assertEqual(case.user_id, self.social_user)
        self.assertEqual(case.search([("id", "=", case.id)]), case, "the user sees the case just created")
        with self.assertRaises(AccessError):
            self.env["social.case.stage"].with_user(self.social_user).create({"name": "Escalated"})
        with self.assertRaises(AccessError):
            case.unlink()


@tagged("post_install", "-at_install")
class TestUserLinksIdentity(SocialCrmCase):

    def test_user_links_identity_to_partner(self):
        partner = self.env["res.partner"].create({"name": "Jo Walker"})
        identity = self.env["social.identity"].create(
            {"platform": "feed", "external_id": "mailto:jo@blogs.example", "handle": "jo"}
        )
        conversation = self.env["social.conversation"].create({"platform": "feed", "thread_key": "jo-1"})
        message = self.env["social.message"].create(
            {"platform": "feed", "external_id": "jo-1", "conversation_id": conversation.id, "author_id": identity.id}
        )
        identity.with_user(self.social_user)._link_partner(partner)
        self.assertRecordValues(
            identity,
            [
                {
                    "partner_id": partner.id,
                    "link_method": "manual",
                    "link_confidence": 1.0,
                    "link_evidence": f"Linked by {self.social_user.name}",
                }
            ],
        )
        self.assertEqual(message.partner_id, partner, "the user's link reaches messages the user may not edit")
        self.assertEqual(conversation.partner_ids, partner)
        identity.with_user(self.social_user).action_unlink_partner()
        self.assertFalse(message.partner_id)
        with self.assertRaises(AccessError):
            identity.with_user(self.social_user).unlink()
