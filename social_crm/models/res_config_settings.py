from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    social_retention_days = fields.Integer(
        "Keep unlinked social messages (days)",
        config_parameter="social_crm.retention_days",
        help="Messages of accounts linked to no partner are deleted once older than this. 0 keeps them all.",
    )
