from odoo import fields, models

from ..insight import Thresholds


def _role_setting(field_type, string, name, help_text):
    """A role threshold stored as ``social_crm.role_<name>``, defaulting to
    the rules' own default."""
    return field_type(
        string, config_parameter=f"social_crm.role_{name}", default=getattr(Thresholds, name), help=help_text
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    social_retention_days = fields.Integer(
        "Keep unlinked social messages (days)",
        config_parameter="social_crm.retention_days",
        help="Messages of accounts linked to no partner are deleted once older than this. 0 keeps them all.",
    )
    social_role_window_days = _role_setting(
        fields.Integer, "Role window (days)", "window_days", "Only messages this recent count towards the roles."
    )
    social_role_power_min_messages = _role_setting(
        fields.Integer, "Power user: messages", "power_min_messages", "Messages in the window, at least."
    )
    social_role_power_min_reach = _role_setting(
        fields.Integer, "Power user: reach", "power_min_reach", "Followers plus likes and reposts received, at least."
    )
    social_role_detractor_max_sentiment = _role_setting(
        fields.Float,
        "Detractor: average sentiment",
        "detractor_max_sentiment",
        "Average sentiment (-1 to 1) at or below this.",
    )
    social_role_detractor_min_negative = _role_setting(
        fields.Integer, "Detractor: negative messages", "detractor_min_negative", "Negative messages, at least."
    )
    social_role_detractor_min_days = _role_setting(
        fields.Integer,
        "Detractor: lasting (days)",
        "detractor_min_days",
        "Days between the first and the last negative message, at least: one bad day makes no detractor.",
    )
    social_role_helper_min_replies = _role_setting(
        fields.Integer,
        "Helper: replies",
        "helper_min_replies",
        "Public replies to other customers' posts (not to our own account), at least.",
    )
    social_role_advocate_min_sentiment = _role_setting(
        fields.Float, "Advocate: average sentiment", "advocate_min_sentiment", "Average sentiment at or above this."
    )
    social_role_advocate_min_positive = _role_setting(
        fields.Integer, "Advocate: positive messages", "advocate_min_positive", "Positive messages, at least."
    )
    social_role_advocate_min_reach = _role_setting(
        fields.Integer, "Advocate: reach", "advocate_min_reach", "Followers plus likes and reposts received, at least."
    )
    social_role_sync_tags = fields.Boolean(
        "Roles as contact tags",
        config_parameter="social_crm.role_sync_tags",
        help="Contacts carry the tag of each community role they hold (and lose it with the role), "
        "so that tag-based rules can use the roles.",
    )

    def action_social_rescore_sentiment(self):
        """Score every message again (after a scorer update): the scheduled
        scoring goes through them in batches."""
        self.check_access("write")
        self.env["social.message"].sudo()._reset_sentiment()
