from collections import defaultdict
from datetime import timedelta

from odoo import Command, fields, models

#: weeks the contact form's sentiment trend covers
TREND_WEEKS = 12
#: one bar per week, from -1 (lowest) to 1 (highest)
BARS = "▁▂▃▄▅▆▇█"


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "social.sentiment.mixin", "social.community.mixin"]
    _social_message_key = "partner_id"

    social_handles = fields.Text(
        "Social accounts",
        help="The partner's handles or profile URLs, one per line (@tentworks, "
        "https://mastodon.social/@tentworks): pulled accounts that match are linked.",
    )
    social_identity_ids = fields.One2many("social.identity", "partner_id", string="Social identities")
    social_message_ids = fields.One2many("social.message", "partner_id", string="Social messages")
    social_identity_count = fields.Integer(compute="_compute_social_counts", groups="social_crm.group_social_crm_user")
    social_message_count = fields.Integer(compute="_compute_social_counts", groups="social_crm.group_social_crm_user")
    social_conversation_count = fields.Integer(
        compute="_compute_social_counts", groups="social_crm.group_social_crm_user"
    )
    social_case_count = fields.Integer(compute="_compute_social_counts", groups="social_crm.group_social_crm_user")

    social_sentiment_trend = fields.Char(
        "Sentiment trend",
        compute="_compute_social_sentiment_trend",
        groups="social_crm.group_social_crm_user",
        help=f"Average sentiment of the contact's messages, one bar per week over the last {TREND_WEEKS} weeks, "
        "oldest first (· : nothing scored that week).",
    )

    def _compute_social_sentiment_trend(self):
        """One grouped query by day for all of ``self``, bucketed into weeks
        of seven days ending today (whatever the language's first day)."""
        first_day = fields.Date.context_today(self) - timedelta(weeks=TREND_WEEKS) + timedelta(days=1)
        rows = self.env["social.message"]._read_group(
            [
                ("partner_id", "in", self.ids),
                ("sentiment_state", "=", "scored"),
                ("posted_at", ">=", fields.Datetime.to_datetime(first_day)),
            ],
            ["partner_id", "posted_at:day"],
            ["__count", "sentiment_score:sum"],
        )
        weeks = defaultdict(lambda: [0, 0.0])
        for partner, day, count, total in rows:
            week = weeks[partner.id, (day.date() - first_day).days // 7]
            week[0] += count
            week[1] += total
        for partner in self:
            scores = [weeks.get((partner.id, n), (0, 0.0)) for n in range(TREND_WEEKS)]
            bars = "".join(self._trend_bar(total / count) if count else "·" for count, total in scores)
            partner.social_sentiment_trend = bars if any(count for count, _total in scores) else False

    @staticmethod
    def _trend_bar(score):
        return BARS[min(int((score + 1) / 2 * len(BARS)), len(BARS) - 1)]

    def _social_role_candidates(self):
        return [("social_identity_ids", "!=", False)]

    def _social_followers(self):
        rows = self.env["social.identity"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["follower_count:sum"]
        )
        return {partner.id: followers for partner, followers in rows}

    def _social_commercial_partners(self):
        return {partner.id: partner.commercial_partner_id for partner in self}

    def _after_social_roles(self):
        """With tag synchronization on, contacts carry the tag of each role
        they hold and lose it with the role: routing rules match on tags."""
        if not self.env["ir.config_parameter"].sudo().get_param("social_crm.role_sync_tags"):
            return
        for role in self.env["social.role"].search([("category_id", "!=", False)]):
            holders = self.filtered(lambda partner, role=role: role in partner.social_role_ids)
            tagged = self.filtered(lambda partner, role=role: role.category_id in partner.category_id)
            (holders - tagged).write({"category_id": [Command.link(role.category_id.id)]})
            (tagged - holders).write({"category_id": [Command.unlink(role.category_id.id)]})

    def _compute_social_counts(self):
        """Counts over the partner and its contacts, one grouped query per model."""
        all_partners = self.with_context(active_test=False).search_fetch([("id", "child_of", self.ids)], ["parent_id"])
        domain = [("partner_id", "in", all_partners.ids)]
        identities = dict(self.env["social.identity"]._read_group(domain, ["partner_id"], ["__count"]))
        cases = dict(self.env["social.case"]._read_group(domain, ["partner_id"], ["__count"]))
        messages = {
            partner: (count, conversations)
            for partner, count, conversations in self.env["social.message"]._read_group(
                domain, ["partner_id"], ["__count", "conversation_id:array_agg"]
            )
        }
        families = {partner: partner for partner in self}
        loaded = set(all_partners.ids)
        for relative in all_partners:
            # a contact counts on each of its ancestors being computed
            ancestor = relative.parent_id
            while ancestor.id in loaded:
                if ancestor in families:
                    families[ancestor] |= relative
                ancestor = ancestor.parent_id
        for partner in self:
            family = families[partner]
            partner.social_identity_count = sum(identities.get(p, 0) for p in family)
            partner.social_case_count = sum(cases.get(p, 0) for p in family)
            partner.social_message_count = sum(messages.get(p, (0, []))[0] for p in family)
            partner.social_conversation_count = len(
                {conversation_id for p in family for conversation_id in messages.get(p, (0, []))[1]}
            )

    def _social_action(self, xml_id, field):
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action["domain"] = [(field, "child_of", self.ids)]
        return action

    def action_view_social_identities(self):
        return self._social_action("social_crm.social_identity_action", "partner_id")

    def action_view_social_messages(self):
        return self._social_action("social_crm.social_message_action", "partner_id")

    def action_view_social_conversations(self):
        return self._social_action("social_crm.social_conversation_action", "partner_ids")

    def action_view_social_sentiment(self):
        return self._social_action("social_crm.social_message_sentiment_action", "partner_id")

    def action_view_social_cases(self):
        action = self._social_action("social_crm.social_case_action", "partner_id")
        action["context"] = {"default_partner_id": self.id}
        return action
