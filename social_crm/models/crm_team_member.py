from odoo import fields, models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    social_case_capacity = fields.Integer(
        "Open cases at most",
        default=10,
        help="The team assigns this agent no more open cases than this (0: no limit).",
    )
