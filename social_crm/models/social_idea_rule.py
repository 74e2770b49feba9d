from odoo import api, fields, models

from .. import reach


class SocialIdeaRule(models.Model):
    """A phrase that marks a message as an idea, in one language or all."""

    _name = "social.idea.rule"
    _description = "Idea Capture Rule"
    _order = "sequence, id"
    _rec_name = "phrase"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    phrase = fields.Char(
        required=True, help="Matched on whole words, ignoring case, accents and punctuation: 'please add'."
    )
    language = fields.Char(
        size=2, help="ISO 639-1 code ('en', 'fr') of the messages it applies to; empty for every language."
    )
    kind = fields.Selection(
        [("improvement", "Improvement"), ("use", "Other use")], required=True, default="improvement"
    )

    @api.model
    def _rules(self):
        """The active rules as the matcher reads them."""
        return [reach.IdeaRule(rule.phrase, rule.language or "", rule.kind) for rule in self.search([])]
