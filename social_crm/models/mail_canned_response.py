from odoo import fields, models


class MailCannedResponse(models.Model):
    """Odoo's canned responses serve as canned replies on social platforms,
    with the placeholders ``{name}``, ``{handle}`` and ``{case}``; a team
    sees its own and those of no team."""

    _inherit = "mail.canned.response"

    social_team_ids = fields.Many2many(
        "crm.team",
        string="Social teams",
        help="Offered in the social reply composer of these teams' cases and conversations; all teams if empty.",
    )
