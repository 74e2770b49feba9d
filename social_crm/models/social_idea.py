import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import reach
from .platforms import INFO

_logger = logging.getLogger(__name__)

#: messages the scheduled capture reads per batch
CAPTURE_BATCH = 1000
#: default similarity from which two ideas' keywords make one idea
DEFAULT_SIMILARITY = 0.6
NAME_LENGTH = 80


class SocialIdea(models.Model):
    """An improvement or another use of a product that customers suggested,
    with the messages that raised it (similar ones grouped, see
    :mod:`..reach.ideas`) and the number of distinct customers behind them."""

    _name = "social.idea"
    _description = "Customer Idea"
    _inherit = ["mail.thread", "mail.activity.mixin", "social.access.mixin"]
    _order = "priority desc, vote_count desc, id desc"

    name = fields.Char(required=True, tracking=True)
    description = fields.Html()
    kind = fields.Selection(
        [("improvement", "Improvement"), ("use", "Other use")], required=True, default="improvement", tracking=True
    )
    stage_id = fields.Many2one(
        "social.idea.stage",
        index=True,
        tracking=True,
        group_expand="_read_group_expand_full",
        default=lambda self: self.env["social.idea.stage"].search([], limit=1),
        ondelete="restrict",
    )
    is_shipped = fields.Boolean(related="stage_id.is_shipped")
    user_id = fields.Many2one("res.users", string="Owner", tracking=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    priority = fields.Selection([("0", "Normal"), ("1", "High")], default="0")
    color = fields.Integer()
    keywords = fields.Char(help="The words similar ideas are told by (see the module's documentation).")
    vote_ids = fields.One2many("social.idea.vote", "idea_id", string="Raised in")
    vote_count = fields.Integer(
        "Customers", compute="_compute_vote_count", store=True, help="Distinct customers who raised the idea."
    )
    message_total = fields.Integer("Mentions", compute="_compute_vote_count", store=True)
    sending_ids = fields.One2many("social.sending", "idea_id", string="Notices")

    @api.depends("vote_ids.partner_id", "vote_ids.identity_id")
    def _compute_vote_count(self):
        for idea in self:
            idea.vote_count = len({vote._customer_key() for vote in idea.vote_ids})
            idea.message_total = len(idea.vote_ids)

    # ------------------------------------------------------------------
    # Capture
    # ------------------------------------------------------------------

    @api.model
    def _similarity_threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param("social_crm.idea_similarity")
        try:
            return min(max(float(value), 0.0), 1.0) if value else DEFAULT_SIMILARITY
        except ValueError:
            _logger.warning("social_crm.idea_similarity is not a number: %r; using %s", value, DEFAULT_SIMILARITY)
            return DEFAULT_SIMILARITY

    @api.model
    def _capture(self, matches, method="rule"):
        """Add ideas for ``matches``, a list of ``(message, rule or None)``:
        each message joins the most similar idea of its company at or above
        the threshold, else starts one. One read of the company's ideas and
        one create of the mentions, whatever the number of messages."""
        matches = [(message, rule) for message, rule in matches if not message.idea_vote_ids]
        if not matches:
            return self.browse()
        threshold = self._similarity_threshold()
        companies = {message.company_id.id or self.env.company.id for message, _rule in matches}
        known = self.search_fetch([("company_id", "in", list(companies))], ["keywords", "company_id"])
        candidates = [(idea, (idea.keywords or "").split()) for idea in known]
        votes, touched = [], self.browse()
        for message, rule in matches:
            text = message.body_text or message.title or ""
            words = reach.keywords(reach.strip_trigger(text, rule))
            company = message.company_id.id or self.env.company.id
            scored = [
                (reach.similarity(words, idea_words), idea)
                for idea, idea_words in candidates
                if idea.company_id.id == company
            ]
            score, idea = max(scored, key=lambda pair: pair[0], default=(0.0, None))
            if idea is None or score < threshold or not words:
                idea = self.create(
                    {
                        "name": self._name_from(text),
                        "kind": rule.kind if rule else "improvement",
                        "keywords": " ".join(words),
                        "company_id": company,
                    }
                )
                candidates.append((idea, words))
            touched |= idea
            votes.append(
                {
                    "idea_id": idea.id,
                    "message_id": message.id,
                    "method": method,
                    "rule_phrase": rule.phrase if rule else False,
                }
            )
        self.env["social.idea.vote"].create(votes)
        return touched

    @api.model
    def _name_from(self, text):
        text = " ".join(text.split())
        return text if len(text) <= NAME_LENGTH else text[: NAME_LENGTH - 1] + "…"

    @api.model
    def _cron_capture(self, batch_size=CAPTURE_BATCH):
        """Check one batch of inbound messages not yet checked against the
        capture rules, each in its language; report progress so that the
        scheduler calls again while some remain."""
        Message = self.env["social.message"]
        domain = [("idea_checked", "=", False)]
        messages = Message.search(domain, order="id", limit=batch_size)
        rules = self.env["social.idea.rule"]._rules()
        matches = []
        for message in messages.filtered(lambda message: message.direction == "inbound"):
            rule = reach.match_rule(message.body_text or message.title or "", rules, message.language or "")
            if rule:
                matches.append((message, rule))
        self._capture(matches)
        messages.write({"idea_checked": True})
        remaining = Message.search_count(domain) if len(messages) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(messages), remaining=remaining)

    # ------------------------------------------------------------------
    # Telling customers
    # ------------------------------------------------------------------

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_message_action")
        action["domain"] = [("id", "in", self.vote_ids.message_id.ids)]
        return action

    def action_tell_customers(self):
        """A draft notice to the customers who raised this shipped idea, to
        review before it is sent."""
        self.ensure_one()
        if not self.is_shipped:
            raise UserError(self.env._("Only a shipped idea can be announced to its customers."))
        sending = self.env["social.sending"].create(
            {
                "name": self.env._("Shipped: %(idea)s", idea=self.name),
                "idea_id": self.id,
                "company_id": self.company_id.id,
                "reply_body": self.env._(
                    "Hi {first_name}, you suggested it and it is here: {idea}. Thank you for the idea!"
                ),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.sending",
            "res_id": sending.id,
            "view_mode": "form",
        }

    def _notice_lines(self, sending):
        """One line per distinct customer: a reply to their latest message
        where the platform lets us publish replies, else an email where
        they have an address, else a reply line that says why it is not
        sent."""
        latest = {}
        for vote in self.vote_ids.sorted("posted_at"):
            latest[vote._customer_key()] = vote
        lines = []
        for (kind, record_id), vote in latest.items():
            message = vote.message_id
            publishes = INFO[message.platform].publishes and message.conversation_id.source_id
            has_email = vote.partner_id.email or vote.identity_id.email
            channel = "reply" if publishes or not has_email else "email"
            lines.append(
                {
                    "sending_id": sending.id,
                    "channel": channel,
                    "partner_id": vote.partner_id.id,
                    "identity_id": vote.identity_id.id,
                    "reply_to_id": message.id if channel == "reply" else False,
                    "recipient_key": f"{kind}-{record_id}",
                }
            )
        return lines
