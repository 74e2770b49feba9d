from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .routing_common import RoutingCase

FRIDAY_16 = datetime(2026, 11, 20, 16, 0)


@tagged("post_install", "-at_install")
class TestCaseSla(RoutingCase):
    """Deadlines in the team's working hours (8-12 and 13-17, Monday to
    Friday, UTC), the breach flag, the first reply wherever it is written,
    and the warning to the team leader."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create({"name": "Support hours", "tz": "UTC"})
        cls.team.social_calendar_id = cls.calendar
        cls.Policy = cls.env["social.sla.policy"]
        cls.policy = cls.Policy.create(
            {"name": "Standard", "team_id": cls.team.id, "reply_hours": 4, "resolve_hours": 16}
        )
        cls.member = cls.env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.agent_a.id})
        cls.solved = cls.env.ref("social_crm.social_case_stage_solved")

    def open_case(self, **values):
        return (
            self.env["social.case"]
            .with_user(self.agent_a)
            .create({"name": "Stove leaks", "team_id": self.team.id, "partner_id": self.customer.id, **values})
        )

    @freeze_time(FRIDAY_16)
    def test_deadlines_count_working_hours_only(self):
        case = self.open_case()
        self.assertEqual(case.sla_policy_id, self.policy)
        self.assertEqual(case.sla_reply_deadline, datetime(2026, 11, 23, 11, 0), "Friday 16:00 + 4 h: Monday 11:00")
        self.assertEqual(case.sla_resolve_deadline, datetime(2026, 11, 24, 16, 0), "+ 16 h: Tuesday 16:00")
        self.assertEqual(case.sla_deadline, case.sla_reply_deadline)

    @freeze_time(FRIDAY_16)
    def test_leaves_of_the_calendar_are_not_working_time(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": self.calendar.id,
                "date_from": datetime(2026, 11, 23, 0, 0),
                "date_to": datetime(2026, 11, 23, 23, 59),
            }
        )
        self.assertEqual(self.open_case().sla_reply_deadline, datetime(2026, 11, 24, 11, 0))

    @freeze_time(FRIDAY_16)
    def test_policy_of_the_priority_comes_first_and_the_company_calendar_by_default(self):
        self.Policy.create({"name": "Urgent", "team_id": self.team.id, "priority": "3", "reply_hours": 1})
        urgent = self.open_case(priority="3")
        self.assertEqual(urgent.sla_reply_deadline, datetime(2026, 11, 20, 17, 0))
        self.assertFalse(urgent.sla_resolve_deadline)
        urgent.priority = "0"
        self.assertEqual(urgent.sla_reply_deadline, datetime(2026, 11, 23, 11, 0), "the priority changes the policy")
        self.team.social_calendar_id = False
        company_calendar = self.company.resource_calendar_id
        self.assertEqual(self.open_case()._calendar(), company_calendar)
        other_team = self.env["crm.team"].create({"name": "No SLA"})
        self.assertFalse(self.open_case(team_id=other_team.id).sla_deadline)

    def test_breach_is_flagged_by_the_cron_and_searchable(self):
        with freeze_time(FRIDAY_16):
            case = self.open_case()
        with freeze_time(datetime(2026, 11, 23, 10, 59)):
            self.env["social.case"]._cron_check_sla()
            self.assertFalse(case.sla_breached)
        with freeze_time(datetime(2026, 11, 23, 11, 1)):
            self.env["social.case"]._cron_check_sla()
        self.assertTrue(case.sla_breached)
        breached = self.env["social.case"].with_user(self.agent_a).search([("sla_breached", "=", True)])
        self.assertEqual(breached, case)

    def test_a_late_reply_breaches_and_a_timely_one_does_not(self):
        with freeze_time(FRIDAY_16):
            late, timely = self.open_case(), self.open_case()
        with freeze_time(datetime(2026, 11, 23, 12, 0)):
            timely._record_first_reply(datetime(2026, 11, 23, 9, 0))
            late._record_first_reply(datetime(2026, 11, 23, 12, 0))
            self.assertFalse(timely.sla_breached)
            self.assertEqual(timely.sla_deadline, timely.sla_resolve_deadline, "once answered, resolution is next")
            self.assertTrue(late.sla_breached)
        with freeze_time(datetime(2026, 11, 24, 15, 0)):
            timely.write({"stage_id": self.solved.id})
            self.assertFalse(timely.sla_breached)
            self.assertFalse(timely.sla_deadline)
        self.assertFalse(timely.sla_breached, "closed in time, it stays met")

    def test_first_reply_is_an_outbound_post_in_a_case_conversation(self):
        with freeze_time(FRIDAY_16):
            case = self.open_case()
            message = self.make_post("where is my stove?")
            message.conversation_id.case_id = case
        self.make_post("not ours", conversation=message.conversation_id, posted_at=datetime(2026, 11, 23, 8, 30))
        self.assertFalse(case.first_reply_at, "the customer's own posts are no reply")
        reply = self.env["social.message"].create(
            {
                "platform": "mastodon",
                "external_id": "our-reply",
                "conversation_id": message.conversation_id.id,
                "direction": "outbound",
                "body": "<p>On its way!</p>",
                "posted_at": datetime(2026, 11, 23, 9, 0),
            }
        )
        self.assertEqual(case.first_reply_at, reply.posted_at)
        self.assertEqual(case.first_response_hours, 2.0, "Friday 16-17 and Monday 8-9")

    def test_first_reply_is_a_message_sent_to_the_customer_from_the_case(self):
        with freeze_time(FRIDAY_16):
            case = self.open_case()
        with freeze_time(datetime(2026, 11, 23, 8, 30)):
            case.with_user(self.agent_a).message_post(body="Internal: check stock", subtype_xmlid="mail.mt_note")
            self.assertFalse(case.first_reply_at, "a note is no reply")
            case.with_user(self.agent_a).message_post(
                body="Hello, a new stove is on its way.",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.customer.ids,
            )
        self.assertEqual(case.first_reply_at, datetime(2026, 11, 23, 8, 30))
        self.assertEqual(case.first_response_hours, 1.5)

    def test_team_leader_is_warned_once_before_a_breach(self):
        with freeze_time(FRIDAY_16):
            case = self.open_case()
        # 80% of 4 working hours: Friday 16-17 and Monday 8:00-10:12
        self.assertEqual(case.sla_warn_at, datetime(2026, 11, 23, 10, 12))
        with freeze_time(datetime(2026, 11, 23, 10, 0)):
            self.env["social.case"]._cron_check_sla()
        self.assertFalse(case.activity_ids)
        with freeze_time(datetime(2026, 11, 23, 10, 15)):
            self.env["social.case"]._cron_check_sla()
            self.env["social.case"]._cron_check_sla()
        self.assertEqual(len(case.activity_ids), 1)
        self.assertEqual(case.activity_ids.user_id, self.leader)
        self.assertEqual(str(case.activity_ids.date_deadline), "2026-11-23")
        self.assertIn("first reply", case.activity_ids.summary)
        self.assertFalse(case.sla_breached)

    def test_compliance_reports_group_by_breach(self):
        with freeze_time(FRIDAY_16):
            met, missed = self.open_case(), self.open_case()
        with freeze_time(datetime(2026, 11, 23, 10, 0)):
            met._record_first_reply(datetime(2026, 11, 23, 9, 0))
            met.stage_id = self.solved
        with freeze_time(datetime(2026, 11, 25, 9, 0)):
            self.env["social.case"]._cron_check_sla()
        groups = self.env["social.case"]._read_group(
            [("id", "in", (met | missed).ids)], ["sla_breached"], ["__count", "first_response_hours:avg"]
        )
        self.assertEqual(sorted(groups), [(False, 1, 2.0), (True, 1, 0.0)])

    @freeze_time(FRIDAY_16)
    def test_agents_cannot_fake_the_timing(self):
        case = self.open_case()
        for values in ({"first_reply_at": FRIDAY_16}, {"opened_at": datetime(2026, 11, 23, 10, 0)}):
            with self.assertRaises(AccessError):
                case.with_user(self.agent_a).write(values)
        with self.assertRaises(AccessError):
            self.open_case(opened_at=datetime(2026, 11, 23, 10, 0))
        with self.assertRaises(AccessError):
            self.Policy.with_user(self.agent_a).create({"name": "Mine", "team_id": self.team.id, "reply_hours": 99})
        self.assertFalse(case.first_reply_at)

    def test_policies_of_another_company_stay_there(self):
        other_team = self.env["crm.team"].create({"name": "Other support", "company_id": self.other_company.id})
        foreign = self.Policy.create({"name": "Theirs", "team_id": other_team.id, "reply_hours": 2})
        self.assertEqual(foreign.company_id, self.other_company)
        visible = self.Policy.with_user(self.social_manager).search([])
        self.assertIn(self.policy, visible)
        self.assertNotIn(foreign, visible)
