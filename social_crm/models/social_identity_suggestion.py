from odoo import api, fields, models

from .social_identity import SUGGESTION_METHODS


class SocialIdentitySuggestion(models.Model):
    """A possible link between an identity and a partner that a person must
    review: the evidence was weak (a look-alike name) or ambiguous (several
    partners share it). A rejection is kept so that it is never proposed
    again."""

    _name = "social.identity.suggestion"
    _description = "Suggested link between a social identity and a partner"
    _order = "state, confidence desc, id desc"

    identity_id = fields.Many2one("social.identity", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    method = fields.Selection(SUGGESTION_METHODS, required=True)
    confidence = fields.Float()
    evidence = fields.Text()
    state = fields.Selection(
        [("pending", "To review"), ("accepted", "Accepted"), ("rejected", "Rejected")],
        required=True,
        default="pending",
        index=True,
    )
    reviewed_by_id = fields.Many2one("res.users", readonly=True)
    reviewed_at = fields.Datetime(readonly=True)
    platform = fields.Selection(related="identity_id.platform")
    identity_name = fields.Char(related="identity_id.name")
    identity_profile_url = fields.Char(related="identity_id.profile_url")
    company_id = fields.Many2one(related="identity_id.company_id", store=True)

    _sql_constraints = [
        ("identity_partner_unique", "UNIQUE(identity_id, partner_id)", "This link is already suggested."),
    ]

    def _review(self, state):
        self.write({"state": state, "reviewed_by_id": self.env.uid, "reviewed_at": fields.Datetime.now()})

    def action_accept(self):
        for suggestion in self:
            suggestion.identity_id._link_partner(
                suggestion.partner_id,
                method="manual",
                evidence=self.env._(
                    "%(evidence)s Confirmed by %(user)s.", evidence=suggestion.evidence or "", user=self.env.user.name
                ),
            )
            suggestion._review("accepted")
            (suggestion.identity_id.suggestion_ids.filtered(lambda s: s.state == "pending") - suggestion)._review(
                "rejected"
            )

    def action_reject(self):
        self._review("rejected")

    @api.model
    def _suggest(self, proposals):
        """Create the suggestions of ``proposals`` (:class:`LinkProposal`)
        not already made or rejected, in one search and one create."""
        if not proposals:
            return self
        known = self.search_fetch(
            [("identity_id", "in", list({p.identity.id for p in proposals}))], ["identity_id", "partner_id"]
        )
        seen = {(s.identity_id.id, s.partner_id.id) for s in known}
        values = []
        for proposal in proposals:
            pair = (proposal.identity.id, proposal.partner.id)
            if pair not in seen:
                seen.add(pair)
                values.append(
                    {
                        "identity_id": proposal.identity.id,
                        "partner_id": proposal.partner.id,
                        "method": proposal.method,
                        "confidence": proposal.confidence,
                        "evidence": proposal.evidence,
                    }
                )
        return self.create(values)
