from markupsafe import Markup

from odoo import api, fields, models


class SocialCase(models.Model):
    """A customer case, whatever the channel it came in on."""

    _name = "social.case"
    _description = "Social Case"
    _inherit = ["mail.thread", "mail.activity.mixin", "social.access.mixin"]
    _order = "priority desc, id desc"
    _rec_names_search = ["reference", "name"]

    name = fields.Char("Subject", required=True, tracking=True)
    reference = fields.Char(readonly=True, copy=False, index=True, default="New")
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, tracking=True)
    identity_id = fields.Many2one(
        "social.identity",
        string="Social identity",
        index="btree_not_null",
        domain="['|', ('partner_id', '=', False), ('partner_id', '=', partner_id)]",
    )
    conversation_ids = fields.One2many("social.conversation", "case_id", string="Conversations")
    conversation_count = fields.Integer(compute="_compute_conversation_count")
    post_ids = fields.Many2many(
        "social.message", compute="_compute_post_ids", string="Posts", help="The posts of the case's conversations."
    )
    stage_id = fields.Many2one(
        "social.case.stage",
        index=True,
        tracking=True,
        copy=False,
        group_expand="_read_group_expand_full",
        default=lambda self: self._default_stage(),
        ondelete="restrict",
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True)
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        tracking=True,
        default=lambda self: self.env["crm.team"]._get_default_team_id(user_id=self.env.uid),
    )
    user_id = fields.Many2one(
        "res.users", string="Assigned to", index=True, tracking=True, default=lambda self: self.env.user
    )
    priority = fields.Selection(
        [("0", "Normal"), ("1", "Important"), ("2", "Urgent"), ("3", "Critical")], default="0", index=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    description = fields.Html()
    color = fields.Integer()

    def _default_stage(self):
        return self.env["social.case.stage"].search([], limit=1)

    @api.depends("conversation_ids")
    def _compute_conversation_count(self):
        counts = dict(
            self.env["social.conversation"]._read_group([("case_id", "in", self.ids)], ["case_id"], ["__count"])
        )
        for case in self:
            case.conversation_count = counts.get(case, 0)

    @api.depends("conversation_ids.post_ids")
    def _compute_post_ids(self):
        posts = self.env["social.message"].search([("conversation_id.case_id", "in", self.ids)]).grouped("case_id")
        for case in self:
            case.post_ids = posts.get(case, self.env["social.message"])

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("reference", "New") == "New":
                vals["reference"] = self.env["ir.sequence"].next_by_code("social.case") or "New"
        cases = super().create(vals_list)
        for case in cases.filtered("partner_id"):
            case._log_on_partner(self.env._("Case %(case)s opened.", case=case.display_name))
        return cases

    def write(self, vals):
        was_open = self.filtered(lambda case: not case.is_closed) if "stage_id" in vals else self.browse()
        result = super().write(vals)
        for case in was_open.filtered(lambda case: case.is_closed and case.partner_id):
            case._log_on_partner(self.env._("Case %(case)s closed.", case=case.display_name))
        return result

    def _log_on_partner(self, text):
        """The customer's chatter tells when a case opens and closes for them,
        with a link to it; the case's own chatter has the rest."""
        link = Markup('<a href="#" data-oe-model="social.case" data-oe-id="%s">%s</a>') % (self.id, text)
        self.partner_id.sudo()._message_log(body=link)

    @api.depends("reference", "name")
    def _compute_display_name(self):
        for case in self:
            case.display_name = f"{case.reference} {case.name}" if case.reference else case.name

    def action_view_conversations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_conversation_action")
        action["domain"] = [("case_id", "in", self.ids)]
        action["context"] = {"default_case_id": self.id}
        return action
