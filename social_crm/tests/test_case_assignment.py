from odoo.tests import tagged

from .routing_common import RoutingCase


@tagged("post_install", "-at_install")
class TestCaseAssignment(RoutingCase):
    """Cases handed out inside a team: round-robin or least loaded, within
    each agent's capacity; the rest wait in the queue until room frees up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Member = cls.env["crm.team.member"]
        cls.member_a = cls.Member.create({"crm_team_id": cls.team.id, "user_id": cls.agent_a.id})
        cls.member_b = cls.Member.create({"crm_team_id": cls.team.id, "user_id": cls.agent_b.id})
        cls.solved = cls.env.ref("social_crm.social_case_stage_solved")

    def new_cases(self, count, **values):
        """Cases the team's queue receives, as routing opens them."""
        return self.env["social.case"].create(
            [{"name": f"Case {n}", "team_id": self.team.id, "user_id": False, **values} for n in range(count)]
        )

    def test_manual_team_leaves_cases_unassigned(self):
        self.assertEqual(self.team.social_assignment, "manual")
        self.assertFalse(self.new_cases(2).user_id)

    def test_round_robin_takes_turns_across_batches(self):
        self.team.social_assignment = "round_robin"
        first = self.new_cases(3)
        self.assertEqual(first.mapped("user_id"), self.agent_a | self.agent_b)
        self.assertEqual([case.user_id for case in first], [self.agent_a, self.agent_b, self.agent_a])
        second = self.new_cases(1)
        self.assertEqual(second.user_id, self.agent_b, "the next batch goes on where the last one stopped")

    def test_least_loaded_fills_the_emptiest_agent(self):
        self.team.social_assignment = "least_loaded"
        self.env["social.case"].create(
            [{"name": f"Old {n}", "team_id": self.team.id, "user_id": self.agent_a.id} for n in range(3)]
        )
        cases = self.new_cases(4)
        loads = {user: len(cases.filtered(lambda case, user=user: case.user_id == user)) for user in cases.user_id}
        self.assertEqual(loads, {self.agent_b: 3, self.agent_a: 1})

    def test_closed_cases_do_not_count_as_load(self):
        self.team.social_assignment = "least_loaded"
        self.env["social.case"].create(
            [{"name": f"Old {n}", "team_id": self.team.id, "user_id": self.agent_a.id} for n in range(3)]
        ).write({"stage_id": self.solved.id})
        self.member_b.social_case_capacity = 1
        self.env["social.case"].create({"name": "B's", "team_id": self.team.id, "user_id": self.agent_b.id})
        self.assertEqual(self.new_cases(1).user_id, self.agent_a)

    def test_capacity_limits_and_the_queue(self):
        self.team.social_assignment = "round_robin"
        self.member_a.social_case_capacity = 1
        self.member_b.social_case_capacity = 2
        cases = self.new_cases(5, priority="0")
        assigned = cases.filtered("user_id")
        self.assertEqual(len(assigned.filtered(lambda case: case.user_id == self.agent_a)), 1)
        self.assertEqual(len(assigned.filtered(lambda case: case.user_id == self.agent_b)), 2)
        queue = cases - assigned
        self.assertEqual(len(queue), 2, "cases wait unassigned when everyone is full")
        urgent = self.new_cases(1, priority="3")
        self.assertFalse(urgent.user_id)
        # an agent closes a case: the most urgent queued case takes its place
        a_case = assigned.filtered(lambda case: case.user_id == self.agent_a)
        a_case.with_user(self.agent_a).write({"stage_id": self.solved.id})
        self.assertEqual(urgent.user_id, self.agent_a)
        self.assertFalse(queue.user_id)
        self.assertTrue(a_case.closed_at)

    def test_cron_assigns_when_capacity_is_raised(self):
        self.team.social_assignment = "least_loaded"
        (self.member_a | self.member_b).social_case_capacity = 1
        cases = self.new_cases(4)
        self.assertEqual(len(cases.filtered("user_id")), 2)
        self.member_b.social_case_capacity = 3
        self.env["social.case"]._cron_assign_queued()
        self.assertEqual(len(cases.filtered(lambda case: case.user_id == self.agent_b)), 3)

    def test_zero_capacity_means_no_limit_and_inactive_members_get_nothing(self):
        self.team.social_assignment = "round_robin"
        self.member_a.social_case_capacity = 0
        self.member_b.active = False
        self.assertEqual(self.new_cases(12).user_id, self.agent_a)

    def test_assignment_queries_do_not_grow_with_the_cases(self):
        self.team.social_assignment = "least_loaded"
        (self.member_a | self.member_b).social_case_capacity = 0
        self.new_cases(2)

        def queries(count):
            cases = self.env["social.case"].with_context(tracking_disable=True)
            values = [{"name": f"Case {n}", "team_id": self.team.id, "user_id": False} for n in range(count)]
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            cases.create(values)
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        small, large = queries(4), queries(60)
        self.assertLessEqual(large - small, 6, f"4 cases: {small} queries, 60 cases: {large} queries")
