from odoo import fields, models

#: the latest posts of a contact the timeline shows, with our answers to them
TIMELINE_LIMIT = 100
SOCIAL_READERS = "social_crm.group_social_crm_user,sales_team.group_sale_salesman"


class ResPartner(models.Model):
    _inherit = "res.partner"

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
        """Every conversation of the contact, as counted, not only those to handle."""
        action = self._social_action("social_crm.social_conversation_action", "partner_ids")
        action["context"] = {}
        return action

    def action_view_social_cases(self):
        action = self._social_action("social_crm.social_case_action", "partner_id")
        action["context"] = {"default_partner_id": self.id}
        return action
