from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .platforms import INFO

#: the latest posts of a contact the timeline shows, with our answers to them
TIMELINE_LIMIT = 100
SOCIAL_READERS = "social_crm.group_social_crm_user,sales_team.group_sale_salesman"
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
    social_case_ids = fields.One2many("social.case", "partner_id", string="Social cases")
    social_timeline_ids = fields.Many2many(
        "social.message",
        compute="_compute_social_timeline_ids",
        string="Social timeline",
        groups=SOCIAL_READERS,
        help="Both sides of the contact's exchanges: what they and their contacts wrote, and what we answered "
        "in the same conversations.",
    )
    social_identity_count = fields.Integer(compute="_compute_social_counts", groups=SOCIAL_READERS)
    social_message_count = fields.Integer(compute="_compute_social_counts", groups=SOCIAL_READERS)
    social_conversation_count = fields.Integer(compute="_compute_social_counts", groups=SOCIAL_READERS)
    social_case_count = fields.Integer(compute="_compute_social_counts", groups=SOCIAL_READERS)

    # facets a segment filters on: stored, so that a domain on them is one query
    social_platforms = fields.Char(
        "Social platforms",
        compute="_compute_social_facets",
        store=True,
        help="The platforms the contact has an account on, e.g. 'Bluesky, Mastodon'.",
    )
    social_post_count = fields.Integer(
        "Social posts (own)", compute="_compute_social_facets", store=True, help="Messages its own accounts posted."
    )
    social_last_post_at = fields.Datetime(
        "Last social post", compute="_compute_social_facets", store=True, help="When one of its accounts last posted."
    )
    social_days_since_post = fields.Integer(
        "Days since last social post",
        compute="_compute_social_days_since_post",
        search="_search_social_days_since_post",
        help="For segments of recent activity: 'at most 30' keeps those who posted in the last 30 days.",
    )
    # the contact's own wishes, per channel of a sending to a segment
    social_optout_post = fields.Boolean(
        "No public mentions", tracking=True, help="Never mention this contact in a public post sent to a segment."
    )
    social_optout_dm = fields.Boolean(
        "No direct messages", tracking=True, help="Never send this contact a direct message to a segment."
    )
    social_optout_email = fields.Boolean(
        "No segment emails",
        tracking=True,
        help="Never email this contact from a sending to a segment (the email blacklist applies as well).",
    )

    social_sentiment_trend = fields.Char(
        "Sentiment trend",
        compute="_compute_social_sentiment_trend",
        groups="social_crm.group_social_crm_user",
        help=f"Average sentiment of the contact's messages, one bar per week over the last {TREND_WEEKS} weeks, "
        "oldest first (· : nothing scored that week).",
    )

    def _compute_social_timeline_ids(self):
        """As the user may read them: private threads of other teams stay
        hidden. A form shows one contact: two searches."""
        for partner in self:
            partner.social_timeline_ids = partner._social_timeline_messages()

    def _social_timeline_messages(self):
        """The contact's latest posts, then our outbound posts in their
        conversations. Modules that tie more threads to a contact (a lead's
        conversations) extend this."""
        Message = self.env["social.message"]
        if not self.id:
            return Message
        theirs = Message.search([("partner_id", "child_of", self.id)], limit=TIMELINE_LIMIT)
        ours = Message.search([("conversation_id", "in", theirs.conversation_id.ids), ("direction", "=", "outbound")])
        return theirs | ours

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

    @api.depends(
        "social_identity_ids.platform", "social_identity_ids.message_count", "social_identity_ids.last_seen_at"
    )
    def _compute_social_facets(self):
        """From the identities, read for all of ``self`` at once."""
        for partner in self:
            identities = partner.social_identity_ids
            platforms = sorted({identity.platform for identity in identities})
            partner.social_platforms = ", ".join(INFO[name].label for name in platforms) or False
            partner.social_post_count = sum(identities.mapped("message_count"))
            partner.social_last_post_at = max(identities.filtered("last_seen_at").mapped("last_seen_at"), default=False)

    @api.depends("social_last_post_at")
    def _compute_social_days_since_post(self):
        now = fields.Datetime.now()
        for partner in self:
            last = partner.social_last_post_at
            partner.social_days_since_post = (now - last).days if last else False

    def _search_social_days_since_post(self, operator, value):
        """A domain on the stored date, so that a segment of recent activity
        stays one query; who never posted is at any number of days."""
        # whole days since the last post: days <= N exactly when the post is
        # less than N + 1 days old
        bounds = {"<=": (">", 1), "<": (">", 0), ">=": ("<=", 0), ">": ("<=", 1)}
        if operator not in bounds or isinstance(value, bool) or not isinstance(value, int):
            raise UserError(self.env._("Compare the days since the last social post with a number of days."))
        comparison, extra = bounds[operator]
        moment = fields.Datetime.now() - timedelta(days=value + extra)
        domain = [("social_last_post_at", comparison, moment)]
        return domain if comparison == ">" else ["|", ("social_last_post_at", "=", False), *domain]

    def _social_action(self, xml_id, field):
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action["domain"] = [(field, "child_of", self.ids)]
        return action

    def action_view_social_identities(self):
        return self._social_action("social_crm.social_identity_action", "partner_id")

    def action_view_social_messages(self):
        return self._social_action("social_crm.social_message_action", "partner_id")

    def action_view_social_conversations(self):
        """Every conversation of the contact, as counted, not only those to handle."""
        action = self._social_action("social_crm.social_conversation_action", "partner_ids")
        action["context"] = {}
        return action

    def action_view_social_sentiment(self):
        return self._social_action("social_crm.social_message_sentiment_action", "partner_id")

    def action_view_social_cases(self):
        action = self._social_action("social_crm.social_case_action", "partner_id")
        action["context"] = {"default_partner_id": self.id}
        return action
