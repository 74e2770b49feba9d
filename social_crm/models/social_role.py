from odoo import fields, models

from ..insight import ROLES


class SocialRole(models.Model):
    """A community role (power user, detractor, helper, advocate): shown as a
    badge, optionally mirrored as a contact tag that routing rules match on.
    The four roles ship as data; their code ties them to the rules."""

    _name = "social.role"
    _description = "Community Role"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Selection([(role, role.replace("_", " ").title()) for role in ROLES], required=True, readonly=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    description = fields.Text(translate=True)
    category_id = fields.Many2one(
        "res.partner.category",
        string="Contact tag",
        ondelete="set null",
        help="With tag synchronization on, contacts holding the role carry this tag and lose it with the role.",
    )

    identity_count = fields.Integer("Identities", compute="_compute_counts")
    partner_count = fields.Integer("Contacts", compute="_compute_counts")

    _sql_constraints = [("code_unique", "UNIQUE(code)", "There is one role per code.")]

    def _compute_counts(self):
        """One grouped query per model for all roles."""
        domain = [("social_role_ids", "in", self.ids)]
        identities = dict(self.env["social.identity"]._read_group(domain, ["social_role_ids"], ["__count"]))
        partners = dict(self.env["res.partner"]._read_group(domain, ["social_role_ids"], ["__count"]))
        for role in self:
            role.identity_count = identities.get(role, 0)
            role.partner_count = partners.get(role, 0)

    def action_view_identities(self):
        """The identities holding the role, highest weighted score first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(f"social_crm.social_identity_{self.code}_action")
        action["context"] = {"graph_measure": f"social_{self.code}_score"}
        return action

    def action_view_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.res_partner_social_roles_action")
        action["domain"] = [("social_role_ids", "in", self.ids)]
        action["name"] = self.name
        return action
