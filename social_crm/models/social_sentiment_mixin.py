from odoo import fields, models
from odoo.tools import SQL

#: what a customer feels and which role they hold is for Social CRM users
USERS = "social_crm.group_social_crm_user"
ROLLUP_FIELDS = ["social_sentiment", "social_scored_count", "social_positive_count", "social_negative_count"]


class SocialSentimentMixin(models.AbstractModel):
    """Sentiment rolled up from the scored messages of a conversation, an
    identity or a contact (``_social_message_key``: the message field that
    points at the record).

    Not computed fields: Odoo writes only the columns whose value changed, so
    stored roll-ups recomputed on each pulled batch split its UPDATEs by
    which of them changed, and a pull's queries would grow with the threads
    and authors it touches. :meth:`_refresh_social_sentiment` recomputes them
    in one UPDATE; ``social.message`` calls it wherever scores, links or
    messages change, and so does ``social.identity`` when its partner does.
    """

    _name = "social.sentiment.mixin"
    _description = "Social Sentiment Roll-up"
    _social_message_key = None

    social_sentiment = fields.Float(
        "Sentiment",
        readonly=True,
        aggregator="avg",
        digits=(3, 2),
        help="Average sentiment of the scored messages, from -1 (negative) to 1 (positive).",
        groups=USERS,
    )
    social_scored_count = fields.Integer("Scored messages", readonly=True, groups=USERS)
    social_positive_count = fields.Integer("Positive messages", readonly=True, groups=USERS)
    social_negative_count = fields.Integer("Negative messages", readonly=True, groups=USERS)

    def _refresh_social_sentiment(self):
        """Recompute the roll-ups of ``self`` in one UPDATE, whatever its
        size (records deleted meanwhile are skipped)."""
        if not self:
            return
        key = self._social_message_key
        self.env["social.message"].flush_model([key, "sentiment_state", "sentiment_score", "sentiment_label"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE %(table)s AS target
                   SET social_scored_count = figures.scored,
                       social_sentiment = figures.average,
                       social_positive_count = figures.positive,
                       social_negative_count = figures.negative
                  FROM (SELECT record.id,
                               count(message.id) AS scored,
                               coalesce(avg(message.sentiment_score), 0) AS average,
                               count(message.id) FILTER (WHERE message.sentiment_label = 'positive') AS positive,
                               count(message.id) FILTER (WHERE message.sentiment_label = 'negative') AS negative
                          FROM unnest(%(ids)s::int[]) AS record(id)
                     LEFT JOIN social_message message
                            ON %(key)s = record.id AND message.sentiment_state = 'scored'
                      GROUP BY record.id) AS figures
                 WHERE target.id = figures.id
                """,
                table=SQL.identifier(self._table),
                key=SQL.identifier("message", key),
                ids=list(self.ids),
            )
        )
        self.invalidate_recordset(ROLLUP_FIELDS)
