from collections import defaultdict

from odoo import fields, models

ASSIGNMENT_MODES = [
    ("manual", "Manually"),
    ("round_robin", "Round-robin"),
    ("least_loaded", "Least loaded"),
]


class CrmTeam(models.Model):
    _inherit = "crm.team"

    social_assignment = fields.Selection(
        ASSIGNMENT_MODES,
        "Assign cases",
        default="manual",
        required=True,
        help="Round-robin: each agent in turn. Least loaded: the agent with the fewest open cases. An agent "
        "at capacity is skipped; when every agent is full, cases wait unassigned in the team's queue and are "
        "assigned as cases close.",
    )
    social_calendar_id = fields.Many2one(
        "resource.calendar",
        "Working hours",
        default=lambda self: self.env.company.resource_calendar_id,
        help="SLA deadlines of the team's cases count these hours only; the company's when empty.",
    )
    social_last_user_id = fields.Many2one(
        "res.users", "Last agent assigned", readonly=True, copy=False, help="Where the round-robin goes on from."
    )
    social_sla_policy_ids = fields.One2many("social.sla.policy", "team_id", string="SLA policies")

    def _social_assign_queue(self):
        """Assign the cases waiting in the queues of ``self``, oldest and most
        urgent first. Runs as superuser: a user closing a case frees room for
        cases of the queue that the user may not see."""
        teams = self.sudo().filtered(lambda team: team.social_assignment != "manual")
        if not teams:
            return
        queued = self.env["social.case"].sudo().search(
            [("team_id", "in", teams.ids), ("user_id", "=", False), ("is_closed", "=", False)]
        )
        if queued:
            teams._social_assign(queued)

    def _social_assign(self, cases):
        """Hand ``cases`` (unassigned, open, of ``self``) to the teams' agents
        with room, by the team's mode: one search of the members, one count of
        their open cases, one write per agent. Cases that find no room stay
        in the queue."""
        cases = cases.sudo().sorted(lambda case: (-int(case.priority or 0), case.opened_at, case.id))
        members = self.env["crm.team.member"].sudo().search([("crm_team_id", "in", self.ids)], order="id")
        loads = defaultdict(
            int,
            {
                (team.id, user.id): count
                for team, user, count in self.env["social.case"].sudo()._read_group(
                    [
                        ("team_id", "in", self.ids),
                        ("user_id", "in", members.user_id.ids),
                        ("is_closed", "=", False),
                    ],
                    ["team_id", "user_id"],
                    ["__count"],
                )
            },
        )
        given = defaultdict(list)
        last_users = {}
        for team in self.sudo():
            team_members = [member for member in members if member.crm_team_id == team and member.user_id.active]
            if not team_members:
                continue
            pointer = team.social_last_user_id
            for case in cases.filtered(lambda case, team=team: case.team_id == team):
                member = team._social_pick(team_members, loads, pointer)
                if member is None:
                    break
                loads[team.id, member.user_id.id] += 1
                given[member.user_id].append(case.id)
                pointer = member.user_id
            if pointer != team.social_last_user_id:
                last_users[team] = pointer
        Case = self.env["social.case"].sudo().with_context(mail_auto_subscribe_no_notify=True, social_assigning=True)
        for user, case_ids in given.items():
            Case.browse(case_ids).write({"user_id": user.id})
        for team, user in last_users.items():
            team.social_last_user_id = user

    def _social_pick(self, members, loads, pointer):
        """The member the next case goes to, or None when all are full. The
        order starts after the last agent served, so that ties rotate."""
        start = next((index + 1 for index, member in enumerate(members) if member.user_id == pointer), 0)
        ordered = members[start:] + members[:start]
        with_room = [
            member
            for member in ordered
            if not member.social_case_capacity or loads[self.id, member.user_id.id] < member.social_case_capacity
        ]
        if not with_room:
            return None
        if self.social_assignment == "least_loaded":
            return min(with_room, key=lambda member: loads[self.id, member.user_id.id])
        return with_room[0]
