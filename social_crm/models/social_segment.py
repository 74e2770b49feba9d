from ast import literal_eval

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SocialSegment(models.Model):
    """A saved group of contacts: a domain on contacts, over their ordinary
    fields and their social facets (platforms, posts, last post, tags and
    whatever other modules add to contacts). Members are found when asked,
    so a segment follows its contacts as they change."""

    _name = "social.segment"
    _description = "Social Segment"
    _inherit = ["mail.thread", "social.access.mixin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    description = fields.Text()
    domain = fields.Char(
        default="[]",
        required=True,
        tracking=True,
        help="Which contacts belong: e.g. those on Mastodon who posted this month, tagged 'Beta'.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    member_count = fields.Integer("Members", compute="_compute_member_count")
    sending_ids = fields.One2many("social.sending", "segment_id", string="Sendings")

    @api.constrains("domain")
    def _check_domain(self):
        for segment in self:
            segment._parsed_domain()

    def _parsed_domain(self):
        """The domain as a list; a clear error for one that is not a
        literal list or names fields contacts do not have."""
        try:
            domain = literal_eval(self.domain or "[]")
            self.env["res.partner"]._where_calc(domain)
        except (ValueError, SyntaxError, TypeError, KeyError) as error:
            raise ValidationError(
                self.env._("The segment %(name)s has an invalid domain: %(error)s", name=self.name, error=error)
            ) from error
        if not isinstance(domain, list):
            raise ValidationError(self.env._("The segment %(name)s has an invalid domain.", name=self.name))
        return domain

    def _member_domain(self):
        """Members are contacts of the segment's company or of none, as a
        user of that company sees them."""
        return [*self._parsed_domain(), ("company_id", "in", [False, self.company_id.id])]

    @api.depends("domain", "company_id")
    def _compute_member_count(self):
        Partner = self.env["res.partner"]
        for segment in self:
            segment.member_count = Partner.search_count(segment._member_domain()) if segment.id else 0

    def _members(self):
        self.ensure_one()
        return self.env["res.partner"].search(self._member_domain())

    def action_view_members(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Members of %(segment)s", segment=self.name),
            "res_model": "res.partner",
            "view_mode": "list,kanban,form",
            "domain": self._member_domain(),
        }

    def action_new_sending(self):
        """A draft sending to this segment, opened for its messages."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.sending",
            "view_mode": "form",
            "context": {
                "default_segment_id": self.id,
                "default_name": self.name,
                "default_company_id": self.company_id.id,
            },
        }
