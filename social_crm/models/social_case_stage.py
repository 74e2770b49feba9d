from odoo import fields, models


class SocialCaseStage(models.Model):
    _name = "social.case.stage"
    _description = "Social Case Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean("Folded in Kanban")
    is_closed = fields.Boolean("Closing stage", help="Cases in this stage are solved or closed.")
