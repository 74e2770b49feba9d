from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    social_conversation_id = fields.Many2one(
        "social.conversation",
        "Social conversation",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        groups="social_crm.group_social_crm_user",
        help="The conversation the lead came from.",
    )

    def action_view_social_conversation(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.conversation",
            "res_id": self.social_conversation_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
