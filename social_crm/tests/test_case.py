from freezegun import freeze_time

from odoo.tests import tagged

from .common import SocialCrmCase


@tagged("post_install", "-at_install")
class TestSocialCase(SocialCrmCase):
    """A case: numbered, staged, linked to the conversations it came from,
    and its history kept in the chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_new = cls.env.ref("social_crm.social_case_stage_new")
        cls.stage_in_progress = cls.env.ref("social_crm.social_case_stage_in_progress")
        cls.stage_solved = cls.env.ref("social_crm.social_case_stage_solved")
        cls.customer = cls.env["res.partner"].create({"name": "Trailhead Outfitters"})
        cls.Case = cls.env["social.case"].with_user(cls.social_user)

    def restart_sequence(self):
        self.env.ref("social_crm.seq_social_case").number_next_actual = 1

    @freeze_time("2026-11-23 10:00:00")
    def test_reference_from_sequence(self):
        self.restart_sequence()
        first = self.Case.create({"name": "Tent pole snapped"})
        second, third = self.Case.create([{"name": "Refund"}, {"name": "Late parcel", "reference": "New"}])
        self.assertEqual(
            [first.reference, second.reference, third.reference],
            ["CASE/2026/00001", "CASE/2026/00002", "CASE/2026/00003"],
        )

    def test_reference_year_is_the_year_of_creation(self):
        with freeze_time("2027-01-02 08:00:00"):
            case = self.Case.create({"name": "New year, new tent"})
        self.assertRegex(case.reference, r"^CASE/2027/\d{5}$")

    def test_copy_gets_a_new_reference(self):
        case = self.Case.create({"name": "Zip broke"})
        duplicate = case.copy()
        self.assertRegex(duplicate.reference, r"^CASE/\d{4}/\d{5}$")
        self.assertNotEqual(duplicate.reference, case.reference)

    def test_display_name_and_search_by_reference(self):
        case = self.Case.create({"name": "Zip broke"})
        self.assertEqual(case.display_name, f"{case.reference} Zip broke")
        self.assertEqual(
            self.Case.name_search(case.reference),
            [(case.id, case.display_name)],
            "typing the reference in a Case field finds the case",
        )
        self.assertIn((case.id, case.display_name), self.Case.name_search("Zip broke"))

    def test_default_stage_is_the_first_stage(self):
        case = self.Case.create({"name": "Where is my order?"})
        self.assertEqual(case.stage_id, self.stage_new)
        self.assertFalse(case.is_closed)
        triage = self.env["social.case.stage"].create({"name": "Triage", "sequence": 0})
        self.assertEqual(self.Case.create({"name": "Spam?"}).stage_id, triage)

    def test_is_closed_follows_the_stage(self):
        case = self.Case.create({"name": "Broken buckle", "partner_id": self.customer.id})
        case.stage_id = self.stage_solved
        self.assertTrue(case.is_closed)
        open_cases = self.Case.search([("partner_id", "=", self.customer.id), ("is_closed", "=", False)])
        self.assertFalse(open_cases)
        case.stage_id = self.stage_in_progress
        self.assertFalse(case.is_closed)
        self.stage_in_progress.is_closed = True
        self.assertTrue(case.is_closed, "closing a stage closes the cases in it")
        self.assertEqual(self.Case.search([("partner_id", "=", self.customer.id), ("is_closed", "=", True)]), case)

    def test_conversations_linked(self):
        Conversation = self.env["social.conversation"]
        first = Conversation.create({"platform": "feed", "thread_key": "review-1"})
        second = Conversation.create({"platform": "feed", "thread_key": "review-2"})
        unrelated = Conversation.create({"platform": "feed", "thread_key": "review-3"})
        case = self.Case.create({"name": "Bad reviews"})
        (first | second).with_user(self.social_user).write({"case_id": case.id})
        self.assertEqual(case.conversation_ids, first | second)
        self.assertEqual(case.conversation_count, 2)
        action = case.action_view_conversations()
        self.assertEqual(Conversation.with_user(self.social_user).search(action["domain"]), first | second)
        self.assertEqual(action["context"], {"default_case_id": case.id})
        self.assertFalse(unrelated.case_id)
        case.with_user(self.social_manager).unlink()
        self.assertFalse(first.case_id, "deleting a case keeps its conversations")

    def test_stage_change_is_tracked_in_chatter(self):
        case = self.Case.create({"name": "Leaking tent", "user_id": self.social_user.id})
        self.env.flush_all()
        self.env.cr.flush()
        before = case.message_ids
        case.write({"stage_id": self.stage_solved.id})
        self.env.flush_all()
        self.env.cr.flush()
        tracking = (case.message_ids - before).sudo().tracking_value_ids
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.field_id.name, "stage_id")
        self.assertEqual((tracking.old_value_char, tracking.new_value_char), ("New", "Solved"))
        self.assertEqual((case.message_ids - before).author_id, self.social_user.partner_id)
