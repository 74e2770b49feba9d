from odoo import api, fields, models

from .platforms import PLATFORMS

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

    _sql_constraints = [
        ("platform_thread_key_unique", "UNIQUE(platform, thread_key)", "This thread is already known."),
    ]

    @api.depends("root_message_id.title", "root_message_id.body_text")
    def _compute_name(self):
        for conversation in self:
            root = conversation.root_message_id
            text = root.title or (root.body_text or "").strip()
            conversation.name = (text[:80] + "…") if len(text) > 80 else (text or conversation.thread_key)

    @api.depends("post_ids.posted_at", "post_ids.visibility", "post_ids.external_id", "post_ids.author_id")
    def _compute_thread(self):
        """Aggregated in SQL: a sync touches many threads, and loading their
        posts (bodies included) again after each batch would cost more than
        the batch."""
        Message = self.env["social.message"]
        stats = {
            conversation: values
            for conversation, *values in Message._read_group(
                [("conversation_id", "in", self.ids)],
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
        for conversation in self:
            count, last_at, authors, visibilities, first_id = stats.get(conversation, (0, False, 0, [], False))
            conversation.post_count = count
            conversation.last_activity_at = last_at
            conversation.participant_count = authors
            conversation.visibility = "private" if "private" in visibilities else "public"
            conversation.root_message_id = roots.get((conversation.id, conversation.thread_key)) or Message.browse(
                first_id or []
            )

    @api.depends("post_ids.author_id.partner_id")
    def _compute_participants(self):
        for conversation in self:
            authors = conversation.post_ids.author_id
            conversation.participant_ids = authors
            conversation.partner_ids = authors.partner_id

    def _search_participant_ids(self, operator, value):
        return [("post_ids.author_id", operator, value)]

    def _search_partner_ids(self, operator, value):
        return [("post_ids.partner_id", operator, value)]

    @api.depends("visibility", "participant_count")
    def _compute_kind(self):
        for conversation in self:
            if conversation.visibility == "private":
                conversation.kind = "one_to_one"
            elif conversation.participant_count > 1:
                conversation.kind = "one_to_one_to_many"
            else:
                conversation.kind = "one_to_many"

    def action_open(self):
        self.write({"state": "open"})

    def action_handled(self):
        self.write({"state": "handled"})

    def action_ignore(self):
        self.write({"state": "ignored"})

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
