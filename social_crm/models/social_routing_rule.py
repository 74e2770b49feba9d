import re
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.tools import SQL

from .platforms import PLATFORMS
from .social_case import PRIORITIES

CUSTOMER_LINKS = [
    ("any", "Any author"),
    ("linked", "Linked to a contact"),
    ("unlinked", "Not linked to a contact"),
]


class SocialRoutingRule(models.Model):
    """What happens to a new conversation, decided by its first inbound post
    that matches: the first rule in sequence order whose every condition
    holds wins, and a conversation is routed once (later posts never undo
    what people changed since)."""

    _name = "social.routing.rule"
    _description = "Social Routing Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    # conditions
    platform = fields.Selection(PLATFORMS, help="Posts of this platform only; empty: any.")
    source_ids = fields.Many2many(
        "social.source", string="Sources", check_company=True, help="Posts pulled by these sources only; empty: any."
    )
    keywords = fields.Char(
        help="Comma-separated words or phrases; the post matches if its title or text contains one of them as "
        "whole words, whatever the case (\"refund, broken zip\").",
    )
    languages = fields.Char(
        help="Comma-separated language codes (en, fr): the post's language, as the platform gives it, must be "
        "one of them (en matches en-GB).",
    )
    partner_category_ids = fields.Many2many(
        "res.partner.category",
        string="Contact tags",
        help="The author's contact must have one of these tags.",
    )
    customer_link = fields.Selection(CUSTOMER_LINKS, "Author", default="any", required=True)
    # actions
    team_id = fields.Many2one("crm.team", string="Set team", check_company=True)
    user_id = fields.Many2one(
        "res.users",
        string="Assign to",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Empty: the team's assignment decides when a case is opened.",
    )
    priority = fields.Selection(PRIORITIES, string="Set priority")
    tag_ids = fields.Many2many("crm.tag", string="Add tags")
    create_case = fields.Boolean("Open a case")
    create_lead = fields.Boolean("Create a lead")
    conversation_count = fields.Integer(compute="_compute_conversation_count")

    def _compute_conversation_count(self):
        counts = dict(
            self.env["social.conversation"]._read_group(
                [("routing_rule_id", "in", self.ids)], ["routing_rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.conversation_count = counts.get(rule, 0)

    def action_view_conversations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_conversation_action")
        action["domain"] = [("routing_rule_id", "in", self.ids)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------

    def _keyword_pattern(self):
        """One regular expression for the rule's keywords: whole words,
        any case, any spacing inside a phrase."""
        words = [word.strip() for word in (self.keywords or "").split(",") if word.strip()]
        if not words:
            return None
        alternatives = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def _language_codes(self):
        return {code.strip().lower() for code in (self.languages or "").split(",") if code.strip()}

    def _matcher(self, source):
        """A test of one message by the rule, or None if the rule never holds
        for the posts of ``source``. Built once per batch."""
        if (self.platform and self.platform != source.platform) or (
            self.source_ids and source not in self.source_ids
        ):
            return None
        pattern, languages = self._keyword_pattern(), self._language_codes()
        categories, link = set(self.partner_category_ids.ids), self.customer_link

        def matches(message):
            if link != "any" or categories:
                partner = message.author_id.partner_id
                if (link == "linked" and not partner) or (link == "unlinked" and partner):
                    return False
                if categories and not categories & set(partner.category_id.ids):
                    return False
            if languages and (message.language or "").lower().split("-")[0] not in languages:
                return False
            return not pattern or bool(pattern.search(f"{message.title or ''}\n{message.body_text or ''}"))

        return matches

    # ------------------------------------------------------------------
    # Routing
    # ------------------------------------------------------------------

    @api.model
    def _route(self, source, messages):
        """Route the conversations of the new inbound ``messages`` of one
        pull of ``source``: each conversation not routed yet takes the
        actions of the first rule its first matching post meets. A few
        queries per rule, none per message."""
        inbound = messages.filtered(lambda message: message.direction == "inbound")
        if not inbound:
            return
        rules = [
            (rule, matcher)
            for rule in self.search([("company_id", "=", source.company_id.id)])
            if (matcher := rule._matcher(source))
        ]
        if not rules:
            return
        matched = {}
        for message in inbound.sorted(lambda message: (message.posted_at or fields.Datetime.now(), message.id)):
            conversation = message.conversation_id
            if conversation in matched or conversation.routing_rule_id:
                continue
            rule = next((rule for rule, matches in rules if matches(message)), None)
            if rule:
                matched[conversation] = (rule, message)
        by_rule = defaultdict(lambda: self.env["social.conversation"])
        for conversation, (rule, _message) in matched.items():
            by_rule[rule] |= conversation
        for rule, conversations in by_rule.items():
            # like their creation in the sync: no chatter message per thread
            conversations.with_context(tracking_disable=True).write(rule._conversation_values())
        self._open_cases(
            [(conversation, message) for conversation, (rule, message) in matched.items() if rule.create_case]
        )
        wanted = [(conversation, message) for conversation, (rule, message) in matched.items() if rule.create_lead]
        if wanted:
            utm = {}
            # unassigned unless the rule or the conversation says who: not the pulling user
            self.env["crm.lead"].create(
                [{"user_id": False, **conversation._lead_values(message, utm)} for conversation, message in wanted]
            )

    def _conversation_values(self):
        values = {"routing_rule_id": self.id}
        if self.team_id:
            values["team_id"] = self.team_id.id
        if self.user_id:
            values["user_id"] = self.user_id.id
        if self.priority:
            values["priority"] = self.priority
        if self.tag_ids:
            values["tag_ids"] = [Command.link(tag.id) for tag in self.tag_ids]
        return values

    @api.model
    def _open_cases(self, pairs):
        """One case per (conversation, message) without one: one create, then
        one UPDATE that links the conversations and opens them."""
        pairs = [(conversation, message) for conversation, message in pairs if not conversation.case_id]
        if not pairs:
            return
        cases = (
            self.env["social.case"]
            .with_context(tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True)
            .create([conversation._case_values(message, user=False) for conversation, message in pairs])
        )
        Conversation = self.env["social.conversation"]
        Conversation.flush_model(["case_id", "state"])
        self.env.cr.execute(
            SQL(
                "UPDATE social_conversation SET case_id = link.case_id, state = 'open'"
                " FROM (VALUES %s) AS link(id, case_id) WHERE social_conversation.id = link.id",
                SQL(", ").join(
                    SQL("(%s, %s)", conversation.id, case.id) for (conversation, _m), case in zip(pairs, cases)
                ),
            )
        )
        Conversation.invalidate_model(["case_id", "state"])
        cases.invalidate_recordset(["conversation_ids"])
