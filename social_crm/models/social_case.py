from datetime import datetime

from odoo import api, fields, models
from odoo.tools import email_normalize


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
    reply_ids = fields.Many2many(
        "social.message", compute="_compute_reply_ids", string="Replies", help="What we wrote in its conversations."
    )
    reply_failed_count = fields.Integer(compute="_compute_reply_ids")

    def _default_stage(self):
        return self.env["social.case.stage"].search([], limit=1)

    @api.depends("conversation_ids")
    def _compute_conversation_count(self):
        counts = dict(
            self.env["social.conversation"]._read_group([("case_id", "in", self.ids)], ["case_id"], ["__count"])
        )
        for case in self:
            case.conversation_count = counts.get(case, 0)

    @api.depends("conversation_ids")
    def _compute_reply_ids(self):
        replies = self.env["social.message"].search(
            [("conversation_id.case_id", "in", self.ids), ("state", "!=", False)], order="id desc"
        )
        for case in self:
            case.reply_ids = replies.filtered(lambda reply: reply.conversation_id.case_id == case)
            case.reply_failed_count = len(case.reply_ids.filtered(lambda reply: reply.state == "failed"))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("reference", "New") == "New":
                vals["reference"] = self.env["ir.sequence"].next_by_code("social.case") or "New"
        return super().create(vals_list)

    @api.depends("reference", "name")
    def _compute_display_name(self):
        for case in self:
            case.display_name = f"{case.reference} {case.name}" if case.reference else case.name

    # ------------------------------------------------------------------
    # Email: the case alias
    # ------------------------------------------------------------------

    @api.model
    @api.private
    def message_new(self, msg_dict, custom_values=None):
        """Mail to the case alias joins the open case of the same contact
        (the customer who moved from a public post to email stays in one
        case), else opens a case for them. The mail gateway then posts the
        mail on the case returned."""
        email = email_normalize(msg_dict.get("email_from") or "")
        partner = self.env["res.partner"].browse(msg_dict.get("author_id") or [])
        if not partner and email:
            partner = self.env["mail.thread"]._mail_find_partner_from_emails([email], force_create=True)[0]
        if partner:
            open_case = self.search([("partner_id", "=", partner.id), ("is_closed", "=", False)], limit=1)
            if open_case:
                return open_case
        values = {"partner_id": partner.id, **(custom_values or {})}
        case = super().message_new(msg_dict, custom_values=values)
        if partner:
            case.message_subscribe(partner_ids=partner.ids)
        return case

    # ------------------------------------------------------------------
    # Replies
    # ------------------------------------------------------------------

    def _reply_conversation(self):
        """The conversation a reply on the case goes to: its public thread
        with the latest activity, else its latest one."""
        self.ensure_one()
        conversations = self.conversation_ids.sorted(lambda c: c.last_activity_at or datetime.min, reverse=True)
        return conversations.filtered(lambda c: c.visibility != "private")[:1] or conversations[:1]

    def action_reply(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "reply", self)

    def action_private_message(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "direct", self)

    def action_handoff(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "handoff", self)

    def action_close_with_note(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "close", self)

    def action_view_conversations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_conversation_action")
        action["domain"] = [("case_id", "in", self.ids)]
        action["context"] = {"default_case_id": self.id}
        return action
