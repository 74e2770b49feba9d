from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    social_conversation_id = fields.Many2one(
        "social.conversation",
        "Social conversation",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        groups="social_crm.group_social_crm_user,sales_team.group_sale_salesman",
        help="The conversation the lead came from.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_social_conversation(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_social_conversation(vals)
        return super().write(vals)

    def _check_social_conversation(self, vals):
        """A lead links only to a conversation its author may read: its name
        would show through the link."""
        if vals.get("social_conversation_id") and not self.env.su:
            self.env["social.conversation"].browse(vals["social_conversation_id"]).check_access("read")

    def action_view_social_conversation(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.conversation",
            "res_id": self.social_conversation_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
