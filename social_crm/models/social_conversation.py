from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from .platforms import PLATFORMS
from .social_case import PRIORITIES

KINDS = [
    ("one_to_many", "One-to-many"),
    ("one_to_one", "One-to-one"),
    ("one_to_one_to_many", "One-to-one-to-many"),
]


class SocialConversation(models.Model):
    """A thread: a post and everything that answers it, or a private
    exchange."""

    _name = "social.conversation"
    _description = "Social Conversation"
    _inherit = ["mail.thread", "mail.activity.mixin", "social.access.mixin", "social.sentiment.mixin"]
    _order = "last_activity_at desc nulls last, id desc"
    _check_company_auto = True
    _social_message_key = "conversation_id"

    name = fields.Char(compute="_compute_name", store=True, readonly=False)
    platform = fields.Selection(PLATFORMS, required=True, index=True)
    thread_key = fields.Char(
        required=True,
        index=True,
        copy=False,
        help="The platform's own key of the thread (a post id, a conversation id, a feed entry id).",
    )
    source_id = fields.Many2one("social.source", index=True, ondelete="set null")
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company)
    team_id = fields.Many2one("crm.team", string="Sales Team", tracking=True)
    user_id = fields.Many2one("res.users", string="Assigned to", tracking=True)
    state = fields.Selection(
        [("new", "New"), ("open", "Open"), ("handled", "Handled"), ("ignored", "Ignored")],
        required=True,
        default="new",
        tracking=True,
    )
    post_ids = fields.One2many("social.message", "conversation_id", string="Posts")
    root_message_id = fields.Many2one("social.message", compute="_compute_thread", store=True)
    post_count = fields.Integer(compute="_compute_thread", store=True)
    last_activity_at = fields.Datetime(compute="_compute_thread", store=True)
    visibility = fields.Selection([("public", "Public"), ("private", "Private")], compute="_compute_thread", store=True)
    participant_count = fields.Integer(compute="_compute_thread", store=True)
    # not stored: a stored many2many is written row by row, which would make
    # a sync's query count grow with the number of threads it touches
    participant_ids = fields.Many2many(
        "social.identity", compute="_compute_participants", search="_search_participant_ids", string="Participants"
    )
    partner_ids = fields.Many2many(
        "res.partner", compute="_compute_participants", search="_search_partner_ids", string="Customers"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_thread",
        store=True,
        index="btree_not_null",
        help="The first customer who wrote in the thread: conversations are grouped by them.",
    )
    kind = fields.Selection(
        KINDS,
        compute="_compute_kind",
        store=True,
        help="One-to-many: a post to everyone. One-to-one: a private exchange. "
        "One-to-one-to-many: an exchange between people in full view of others.",
    )
    case_id = fields.Many2one(
        "social.case", index="btree_not_null", tracking=True, ondelete="set null", check_company=True
    )

    priority = fields.Selection(PRIORITIES, default="0", help="The priority of the case opened from the conversation.")
    tag_ids = fields.Many2many("crm.tag", string="Tags")
    routing_rule_id = fields.Many2one(
        "social.routing.rule",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The rule that routed the conversation when its first matching post came in.",
    )
    lead_ids = fields.One2many("crm.lead", "social_conversation_id", string="Leads")
    lead_count = fields.Integer(compute="_compute_lead_count")

    _sql_constraints = [
        ("platform_thread_key_unique", "UNIQUE(platform, thread_key)", "This thread is already known."),
    ]

    @api.depends("root_message_id.title", "root_message_id.body_text")
    def _compute_name(self):
        for conversation in self:
            root = conversation.root_message_id
            text = root.title or (root.body_text or "").strip()
            conversation.name = (text[:80] + "…") if len(text) > 80 else (text or conversation.thread_key)

    @api.depends(
        "post_ids.posted_at",
        "post_ids.visibility",
        "post_ids.external_id",
        "post_ids.author_id",
        "post_ids.partner_id",
        "post_ids.direction",
    )
    def _compute_thread(self):
        """Aggregated in SQL: a sync touches many threads, and loading their
        posts (bodies included) again after each batch would cost more than
        the batch. Drafts we have not published yet are not part of the
        thread (a direct message draft would make a public thread private).
        The customer is the first who wrote to us, never one of our companies."""
        Message = self.env["social.message"]
        stats = {
            conversation: values
            for conversation, *values in Message._read_group(
                [("conversation_id", "in", self.ids), ("state", "in", [False, "published"])],
                ["conversation_id"],
                ["__count", "posted_at:max", "author_id:count_distinct", "visibility:array_agg", "id:min"],
            )
        }
        roots = {
            (root.conversation_id.id, root.external_id): root
            for root in Message.search_fetch(
                [("conversation_id", "in", self.ids), ("external_id", "in", list(set(self.mapped("thread_key"))))],
                ["conversation_id", "external_id"],
            )
        }
        ours = self._our_partners()
        customers = {}
        for post in Message.sudo().search_fetch(
            [
                ("conversation_id", "in", self.ids),
                ("direction", "=", "inbound"),
                ("partner_id", "not in", [False, *ours.ids]),
            ],
            ["conversation_id", "partner_id"],
            order="posted_at asc, id asc",
        ):
            customers.setdefault(post.conversation_id.id, post.partner_id)
        for conversation in self:
            conversation.partner_id = customers.get(conversation.id, False)
            count, last_at, authors, visibilities, first_id = stats.get(conversation, (0, False, 0, [], False))
            conversation.post_count = count
            conversation.last_activity_at = last_at
            conversation.participant_count = authors
            conversation.visibility = "private" if "private" in visibilities else "public"
            conversation.root_message_id = roots.get((conversation.id, conversation.thread_key)) or Message.browse(
                first_id or []
            )

    @api.depends("post_ids.author_id.partner_id", "post_ids.direction")
    def _compute_participants(self):
        """The customers are the partners of those who write to us: never
        our own accounts, nor our companies."""
        ours = self._our_partners()
        for conversation in self:
            posts = conversation.post_ids
            conversation.participant_ids = posts.author_id
            inbound = posts.filtered(lambda post: post.direction == "inbound")
            conversation.partner_ids = inbound.author_id.partner_id - ours

    def _our_partners(self):
        """The partners of our companies: never customers of a thread."""
        return self.env["res.company"].sudo().search_fetch([], ["partner_id"]).partner_id

    def _search_participant_ids(self, operator, value):
        return [("post_ids.author_id", operator, value)]

    def _search_partner_ids(self, operator, value):
        return [("post_ids", "any", [("direction", "=", "inbound"), ("partner_id", operator, value)])]

    @api.depends("visibility", "participant_count")
    def _compute_kind(self):
        for conversation in self:
            if conversation.visibility == "private":
                conversation.kind = "one_to_one"
            elif conversation.participant_count > 1:
                conversation.kind = "one_to_one_to_many"
            else:
                conversation.kind = "one_to_many"

    def _check_can_reply(self):
        """Replying works the conversation and its case: the user must be
        allowed to edit both, whatever the wizard or button it came from
        (publishing itself runs as superuser, with the source's credentials)."""
        if not self.env.user.has_group("social_crm.group_social_crm_user"):
            raise AccessError(self.env._("Only Social CRM users may reply on social platforms."))
        self.check_access("write")
        self.case_id.check_access("write")

    def _private_thread(self, thread_key):
        """The conversation ``thread_key`` of this platform (a direct message
        exchange a reply opened), created if new, in this one's case."""
        self.ensure_one()
        found = self.sudo().search([("platform", "=", self.platform), ("thread_key", "=", thread_key)], limit=1)
        values = {"case_id": self.case_id.id} if self.case_id else {}
        if found:
            if values and not found.case_id:
                found.sudo().write(values)
            return found
        return self.sudo().create(
            {
                "platform": self.platform,
                "thread_key": thread_key,
                "source_id": self.source_id.id,
                "company_id": self.company_id.id,
                "team_id": self.team_id.id,
                "user_id": self.user_id.id,
                "state": "open",
                **values,
            }
        )

    def action_reply(self):
        return self.env["social.reply.wizard"]._action_open(self, "reply")

    def action_private_message(self):
        return self.env["social.reply.wizard"]._action_open(self, "direct")

    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._read_group([("social_conversation_id", "in", self.ids)], ["social_conversation_id"], ["__count"])
        )
        for conversation in self:
            conversation.lead_count = counts.get(conversation, 0)

    def action_open(self):
        self.write({"state": "open"})

    def action_handled(self):
        self.write({"state": "handled"})

    def action_ignore(self):
        self.write({"state": "ignored"})

    def action_create_case(self):
        """Open a case for the conversation, from its first post."""
        self.ensure_one()
        return self._create_case(self.root_message_id)

    def _create_case(self, message):
        """A case for this conversation, started from ``message``: its author
        as customer, its text as description, the source's team; the
        conversation is linked and open. Returns the case's form."""
        self.ensure_one()
        if self.case_id:
            raise UserError(
                self.env._("This conversation is already followed in %(case)s.", case=self.case_id.display_name)
            )
        case = self.env["social.case"].create(self._case_values(message))
        self.write({"case_id": case.id, "state": "open"})
        return self.env["social.message"]._form_action(case)

    def _case_values(self, message, user=None):
        """Values of a case opened from ``message`` of this conversation.
        ``user``: the assignee when the conversation has none; by default the
        team's assignment when it assigns, else the current user."""
        team = self.team_id or self.source_id.team_id
        if user is None:
            user = False if team.social_assignment != "manual" else self.env.user
        author = message.author_id
        text = message.body_text or message.title or ""
        return {
            "name": self.name or message.summary or self.thread_key,
            "partner_id": author.partner_id.id,
            "identity_id": author.id,
            "description": Markup("<p>%s</p>") % text if text else False,
            "team_id": team.id,
            "user_id": (self.user_id or user or self.env["res.users"]).id,
            "priority": self.priority or "0",
            "tag_ids": [Command.set(self.tag_ids.ids)],
            "company_id": (self.company_id or self.env.company).id,
        }

    def action_create_lead(self):
        """Turn the conversation into a lead, from its first post."""
        self.ensure_one()
        return self._create_lead(self.root_message_id)

    def _create_lead(self, message):
        """A lead from ``message`` of this conversation; returns its form."""
        self.ensure_one()
        lead = self.env["crm.lead"].create(self._lead_values(message))
        return self.env["social.message"]._form_action(lead)

    def _lead_values(self, message, utm=None):
        """A lead from ``message``: its author's contact, the source as UTM
        source and the platform as UTM medium, its text as description.
        ``utm`` caches the UTM records across the leads of one batch."""
        utm = {} if utm is None else utm
        author = message.author_id
        source = self.source_id or message.source_id
        team = self.team_id or source.team_id
        text = message.body_text or message.title or ""
        if self.platform not in utm:
            label = dict(self._fields["platform"]._description_selection(self.env))[self.platform]
            utm[self.platform] = self.env["utm.mixin"].sudo()._find_or_create_record("utm.medium", label)
        if source and source not in utm:
            utm[source] = source._utm_source()
        values = {
            "name": self.name or message.summary or self.thread_key,
            "partner_id": author.partner_id.id,
            "contact_name": False if author.partner_id else (author.name or author.handle),
            "description": Markup("<p>%s</p>") % text if text else False,
            "social_conversation_id": self.id,
            "medium_id": utm[self.platform].id,
            "source_id": utm[source].id if source else False,
            "company_id": (self.company_id or self.env.company).id,
        }
        if team:
            values["team_id"] = team.id
        if self.user_id:
            values["user_id"] = self.user_id.id
        return values

    def action_view_leads(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action["domain"] = [("social_conversation_id", "in", self.ids)]
        action["context"] = {"active_test": False}
        return action

    @api.model
    def _upsert_threads(self, source, posts):
        """The conversations of ``posts`` by thread key: one search, one
        create for the new threads. Returns a map thread key -> conversation."""
        keys = list(dict.fromkeys(post.thread_key for post in posts))
        found = self.search([("platform", "=", source.platform), ("thread_key", "in", keys)])
        by_key = {conversation.thread_key: conversation for conversation in found}
        by_key.update(self._threads_of_stored_parents(source.platform, posts, by_key))
        created = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True).create(
            [
                {
                    "platform": source.platform,
                    "thread_key": key,
                    "source_id": source.id,
                    "company_id": source.company_id.id,
                    "team_id": source.team_id.id,
                }
                for key in keys
                if key not in by_key
            ]
        )
        by_key.update((conversation.thread_key, conversation) for conversation in created)
        return by_key

    @api.model
    def _threads_of_stored_parents(self, platform, posts, by_key):
        """A reply whose thread the platform could not name (its root was out
        of reach) joins the conversation of its stored parent."""
        orphans = {
            post.parent_id: post.thread_key for post in posts if post.thread_key not in by_key and post.parent_id
        }
        if not orphans:
            return {}
        parents = self.env["social.message"].search_fetch(
            [("platform", "=", platform), ("external_id", "in", list(orphans))], ["external_id", "conversation_id"]
        )
        return {orphans[parent.external_id]: parent.conversation_id for parent in parents}
