from odoo import fields, models


class SocialIdeaVote(models.Model):
    """A customer's message that raised an idea: each message counts once."""

    _name = "social.idea.vote"
    _description = "Idea Mention"
    _order = "posted_at desc, id desc"
    _rec_name = "message_id"
    _inherit = ["social.access.mixin"]

    idea_id = fields.Many2one("social.idea", required=True, index=True, ondelete="cascade")
    message_id = fields.Many2one("social.message", required=True, index=True, ondelete="cascade")
    identity_id = fields.Many2one(related="message_id.author_id", store=True, string="Account")
    partner_id = fields.Many2one(related="message_id.partner_id", store=True, string="Customer")
    posted_at = fields.Datetime(related="message_id.posted_at", store=True)
    platform = fields.Selection(related="message_id.platform")
    summary = fields.Char(related="message_id.summary")
    company_id = fields.Many2one(related="idea_id.company_id", store=True, index=True)
    method = fields.Selection([("rule", "Rule"), ("manual", "By hand")], required=True, default="rule")
    rule_phrase = fields.Char("Matched phrase")

    _sql_constraints = [
        ("message_unique", "UNIQUE(message_id)", "This message already raised an idea."),
    ]

    def _customer_key(self):
        """The customer behind the message: its contact, else its account."""
        return ("partner", self.partner_id.id) if self.partner_id else ("identity", self.identity_id.id)
