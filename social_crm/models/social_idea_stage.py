from odoo import fields, models


class SocialIdeaStage(models.Model):
    _name = "social.idea.stage"
    _description = "Idea Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean(help="Folded in the kanban view.")
    is_shipped = fields.Boolean(
        "Shipped", help="Ideas in this stage are available: the customers who raised them can be told."
    )
