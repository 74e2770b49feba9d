from collections import defaultdict

from odoo import fields, models


#: what a customer feels and which role they hold is for Social CRM users
USERS = "social_crm.group_social_crm_user"


class SocialSentimentMixin(models.AbstractModel):
    """Sentiment rolled up from scored messages: conversations, identities
    and contacts each define ``_compute_social_sentiment`` with their own
    dependencies and call :meth:`_social_sentiment_rollup` with the message
    field that points at them."""

    _name = "social.sentiment.mixin"
    _description = "Social Sentiment Roll-up"

    social_sentiment = fields.Float(
        "Sentiment",
        compute="_compute_social_sentiment",
        store=True,
        aggregator="avg",
        digits=(3, 2),
        help="Average sentiment of the scored messages, from -1 (negative) to 1 (positive).",
        groups=USERS,
    )
    social_scored_count = fields.Integer(
        "Scored messages", compute="_compute_social_sentiment", store=True, groups=USERS
    )
    social_positive_count = fields.Integer(
        "Positive messages", compute="_compute_social_sentiment", store=True, groups=USERS
    )
    social_negative_count = fields.Integer(
        "Negative messages", compute="_compute_social_sentiment", store=True, groups=USERS
    )

    def _compute_social_sentiment(self):
        raise NotImplementedError

    def _social_sentiment_rollup(self, message_field):
        """One grouped query for all of ``self``."""
        rows = self.env["social.message"]._read_group(
            [(message_field, "in", self.ids), ("sentiment_state", "=", "scored")],
            [message_field, "sentiment_label"],
            ["__count", "sentiment_score:sum"],
        )
        stats = defaultdict(lambda: {"scored": 0, "sum": 0.0})
        for record, label, count, total in rows:
            figures = stats[record.id]
            figures["scored"] += count
            figures["sum"] += total
            figures[label] = count
        for record in self:
            figures = stats.get(record.id, {"scored": 0, "sum": 0.0})
            record.social_scored_count = figures["scored"]
            record.social_sentiment = figures["sum"] / figures["scored"] if figures["scored"] else 0.0
            record.social_positive_count = figures.get("positive", 0)
            record.social_negative_count = figures.get("negative", 0)
