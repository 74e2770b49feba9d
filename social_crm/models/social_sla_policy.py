from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .social_case import PRIORITIES


class SocialSlaPolicy(models.Model):
    """How fast a team answers and solves the cases of a priority, counted
    in the team's working hours."""

    _name = "social.sla.policy"
    _description = "Social Case SLA Policy"
    _order = "team_id, priority desc, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", required=True, index=True, check_company=True)
    company_id = fields.Many2one(related="team_id.company_id", store=True, index=True)
    priority = fields.Selection(PRIORITIES, help="The cases of this priority only; empty: of any priority.")
    reply_hours = fields.Float(
        "First reply within (hours)", help="Working hours until the first answer to the customer; 0: no target."
    )
    resolve_hours = fields.Float(
        "Resolve within (hours)", help="Working hours until the case is closed; 0: no target."
    )

    _sql_constraints = [
        ("team_priority_unique", "UNIQUE(team_id, priority)", "A team has one policy per priority."),
        ("hours_not_negative", "CHECK(reply_hours >= 0 AND resolve_hours >= 0)", "Targets cannot be negative."),
    ]

    @api.constrains("reply_hours", "resolve_hours")
    def _check_some_target(self):
        if any(not (policy.reply_hours or policy.resolve_hours) for policy in self):
            raise ValidationError(self.env._("An SLA policy needs a first reply or a resolution target."))
