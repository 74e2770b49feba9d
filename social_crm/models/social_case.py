from collections import defaultdict
from datetime import datetime

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, email_normalize

PRIORITIES = [("0", "Normal"), ("1", "Important"), ("2", "Urgent"), ("3", "Critical")]
#: share of an SLA target after which the team leader is warned
SLA_WARNING_SHARE = 0.8
#: what only the system records: a user setting them would hide a late answer
SYSTEM_FIELDS = {"opened_at", "closed_at", "first_reply_at", "sla_warned_deadline"}
SLA_DEADLINE_FIELDS = ("sla_reply_deadline", "sla_resolve_deadline", "sla_reply_warn_at", "sla_resolve_warn_at")


class SocialCase(models.Model):
    """A customer case, whatever the channel it came in on."""

    _name = "social.case"
    _description = "Social Case"
    _inherit = ["mail.thread", "mail.activity.mixin", "social.access.mixin"]
    _order = "priority desc, id desc"
    _rec_names_search = ["reference", "name"]

    name = fields.Char("Subject", required=True, tracking=True)
    reference = fields.Char(readonly=True, copy=False, index=True, default="New")
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, tracking=True)
    identity_id = fields.Many2one(
        "social.identity",
        string="Social identity",
        index="btree_not_null",
        domain="['|', ('partner_id', '=', False), ('partner_id', '=', partner_id)]",
    )
    conversation_ids = fields.One2many("social.conversation", "case_id", string="Conversations")
    conversation_count = fields.Integer(compute="_compute_conversation_count")
    post_ids = fields.Many2many(
        "social.message", compute="_compute_post_ids", string="Posts", help="The posts of the case's conversations."
    )
    stage_id = fields.Many2one(
        "social.case.stage",
        index=True,
        tracking=True,
        copy=False,
        group_expand="_read_group_expand_full",
        default=lambda self: self._default_stage(),
        ondelete="restrict",
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True)
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        tracking=True,
        default=lambda self: self.env["crm.team"]._get_default_team_id(user_id=self.env.uid),
    )
    user_id = fields.Many2one(
        "res.users", string="Assigned to", index=True, tracking=True, default=lambda self: self.env.user
    )
    priority = fields.Selection(PRIORITIES, default="0", index=True)
    tag_ids = fields.Many2many("crm.tag", string="Tags")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    description = fields.Html()
    color = fields.Integer()
    reply_ids = fields.Many2many(
        "social.message", compute="_compute_post_ids", string="Replies", help="What we wrote in its conversations."
    )
    reply_failed_count = fields.Integer(compute="_compute_post_ids")
    opened_at = fields.Datetime(
        "Opened on", default=fields.Datetime.now, required=True, readonly=True, copy=False, index=True
    )
    closed_at = fields.Datetime("Closed on", readonly=True, copy=False)
    first_reply_at = fields.Datetime(
        "First reply on",
        readonly=True,
        copy=False,
        help="The first answer to the customer: a post published in one of the case's conversations, "
        "or a message sent to the customer from the case.",
    )
    first_response_hours = fields.Float(
        "Hours to first reply",
        compute="_compute_first_response_hours",
        store=True,
        aggregator="avg",
        help="Working hours of the team between the opening of the case and its first reply.",
    )
    sla_policy_id = fields.Many2one(
        "social.sla.policy", string="SLA policy", compute="_compute_sla_policy_id", store=True, index="btree_not_null"
    )
    sla_reply_deadline = fields.Datetime("First reply due", compute="_compute_sla_deadlines", store=True)
    sla_resolve_deadline = fields.Datetime("Resolution due", compute="_compute_sla_deadlines", store=True)
    sla_reply_warn_at = fields.Datetime(compute="_compute_sla_deadlines", store=True)
    sla_resolve_warn_at = fields.Datetime(compute="_compute_sla_deadlines", store=True)
    sla_deadline = fields.Datetime(
        "Next deadline",
        compute="_compute_sla_next",
        store=True,
        index="btree_not_null",
        help="The first reply deadline until the customer is answered, then the resolution deadline.",
    )
    sla_warn_at = fields.Datetime(compute="_compute_sla_next", store=True, index="btree_not_null")
    sla_warned_deadline = fields.Datetime(
        readonly=True, copy=False, help="The deadline the team leader was last warned about."
    )
    sla_breached = fields.Boolean(
        "SLA breached",
        compute="_compute_sla_breached",
        store=True,
        index=True,
        help="A deadline passed before the first reply or the resolution. Checked when the case changes and "
        "by a scheduled action as time passes.",
    )

    def _default_stage(self):
        return self.env["social.case.stage"].search([], limit=1)

    @api.depends("conversation_ids")
    def _compute_conversation_count(self):
        counts = dict(
            self.env["social.conversation"]._read_group([("case_id", "in", self.ids)], ["case_id"], ["__count"])
        )
        for case in self:
            case.conversation_count = counts.get(case, 0)

    @api.depends("conversation_ids.post_ids.state")
    def _compute_post_ids(self):
        """The posts of the case's conversations, and among them the replies
        we wrote (those with a publishing state), newest first: one search."""
        Message = self.env["social.message"]
        posts = Message.search([("conversation_id.case_id", "in", self.ids)]).grouped("case_id")
        for case in self:
            case.post_ids = posts.get(case, Message)
            case.reply_ids = case.post_ids.filtered("state").sorted("id", reverse=True)
            case.reply_failed_count = len(case.reply_ids.filtered(lambda reply: reply.state == "failed"))

    def _calendar(self):
        """Working hours the case is timed in: its team's, else its company's."""
        return self.team_id.social_calendar_id or self.company_id.resource_calendar_id

    @api.depends("opened_at", "first_reply_at", "team_id.social_calendar_id")
    def _compute_first_response_hours(self):
        for case in self:
            calendar = case._calendar()
            if not (case.first_reply_at and case.opened_at):
                case.first_response_hours = 0.0
            elif calendar:
                case.first_response_hours = calendar._social_work_hours(case.opened_at, case.first_reply_at)
            else:
                case.first_response_hours = (case.first_reply_at - case.opened_at).total_seconds() / 3600

    @api.depends("team_id", "priority")
    def _compute_sla_policy_id(self):
        """The team's policy for the case's priority, else its policy for
        every priority. One search for all the cases."""
        policies = self.env["social.sla.policy"].search([("team_id", "in", self.team_id.ids)])
        by_key = {}
        for policy in policies.sorted(lambda policy: bool(policy.priority)):
            by_key[policy.team_id, policy.priority] = policy
        for case in self:
            case.sla_policy_id = by_key.get((case.team_id, case.priority)) or by_key.get((case.team_id, False))

    @api.depends(
        "opened_at",
        "sla_policy_id.reply_hours",
        "sla_policy_id.resolve_hours",
        "team_id.social_calendar_id",
        "company_id.resource_calendar_id",
    )
    def _compute_sla_deadlines(self):
        """Deadlines counted in working hours, planned in one pass over each
        calendar's working intervals for all the cases timed in it."""
        plans = defaultdict(list)
        for case in self:
            case.update(dict.fromkeys(SLA_DEADLINE_FIELDS, False))
            policy, calendar = case.sla_policy_id, case._calendar()
            if not (policy and calendar and case.opened_at):
                continue
            for field, hours in (
                ("sla_reply_deadline", policy.reply_hours),
                ("sla_resolve_deadline", policy.resolve_hours),
                ("sla_reply_warn_at", policy.reply_hours * SLA_WARNING_SHARE),
                ("sla_resolve_warn_at", policy.resolve_hours * SLA_WARNING_SHARE),
            ):
                if hours > 0:
                    plans[calendar].append((case, field, hours))
        for calendar, items in plans.items():
            ends = calendar._social_plan_hours_batch([(case.opened_at, hours) for case, _field, hours in items])
            for (case, field, _hours), end in zip(items, ends):
                case[field] = end

    @api.depends(*SLA_DEADLINE_FIELDS, "first_reply_at", "is_closed")
    def _compute_sla_next(self):
        for case in self:
            if case.is_closed:
                case.sla_deadline = case.sla_warn_at = False
            elif case.first_reply_at or not case.sla_reply_deadline:
                case.sla_deadline, case.sla_warn_at = case.sla_resolve_deadline, case.sla_resolve_warn_at
            else:
                case.sla_deadline, case.sla_warn_at = case.sla_reply_deadline, case.sla_reply_warn_at

    @api.depends("sla_reply_deadline", "sla_resolve_deadline", "first_reply_at", "closed_at")
    def _compute_sla_breached(self):
        now = fields.Datetime.now()
        for case in self:
            replied, resolved = case.first_reply_at or now, case.closed_at or now
            case.sla_breached = bool(
                (case.sla_reply_deadline and replied > case.sla_reply_deadline)
                or (case.sla_resolve_deadline and resolved > case.sla_resolve_deadline)
            )

    @api.model_create_multi
    def create(self, vals_list):
        """Numbered and staged with a query for the batch, not one per case:
        routing opens cases by the hundred during a pull."""
        self._check_system_fields(vals_list)
        numbered = [vals for vals in vals_list if vals.get("reference", "New") == "New"]
        for vals, reference in zip(numbered, self._next_references(len(numbered))):
            vals["reference"] = reference
        if "default_stage_id" not in self.env.context and any("stage_id" not in vals for vals in vals_list):
            stage = self._default_stage()
            for vals in vals_list:
                vals.setdefault("stage_id", stage.id)
        cases = super().create(vals_list)
        cases._assign_in_teams()
        for case in cases.filtered("partner_id"):
            case._log_on_partner(self.env._("Case %(case)s opened.", case=case.display_name))
        return cases

    @api.model
    def _next_references(self, count):
        """``count`` references of the case sequence, drawn in one query
        when the sequence is a plain PostgreSQL sequence."""
        if not count:
            return []
        Sequence = self.env["ir.sequence"]
        sequence = Sequence.search(
            [("code", "=", "social.case"), ("company_id", "in", [self.env.company.id, False])],
            order="company_id",
            limit=1,
        )
        if not sequence or sequence.implementation != "standard" or sequence.use_date_range:
            return [Sequence.next_by_code("social.case") or "New" for _index in range(count)]
        self.env.cr.execute(
            SQL("SELECT nextval(%s) FROM generate_series(1, %s)", f"ir_sequence_{sequence.id:03d}", count)
        )
        return [sequence.get_next_char(number) for (number,) in self.env.cr.fetchall()]

    def write(self, vals):
        """Keep when a case closed, and hand the team queues' cases to the
        agents a closed or reassigned case leaves room for (not while the
        assignment itself writes: it already counted what it hands out)."""
        self._check_system_fields([vals])
        teams = self.team_id
        was_open = self.filtered(lambda case: not case.is_closed) if "stage_id" in vals else self.browse()
        result = super().write(vals)
        for case in was_open.filtered(lambda case: case.is_closed and case.partner_id):
            case._log_on_partner(self.env._("Case %(case)s closed.", case=case.display_name))
        if "stage_id" in vals:
            self.filtered(lambda case: case.is_closed and not case.closed_at).sudo().write(
                {"closed_at": fields.Datetime.now()}
            )
            self.filtered(lambda case: not case.is_closed and case.closed_at).sudo().write({"closed_at": False})
        if {"stage_id", "user_id", "team_id", "active"} & set(vals) and not self.env.context.get("social_assigning"):
            self.env["crm.team"].browse((teams | self.team_id).ids)._social_assign_queue()
        return result

    def _check_system_fields(self, vals_list):
        if self.env.su:
            return
        written = SYSTEM_FIELDS & {name for vals in vals_list for name in vals}
        if written:
            raise AccessError(
                self.env._("Only Social CRM itself records %(fields)s.", fields=", ".join(sorted(written)))
            )

    def _assign_in_teams(self):
        """Hand the unassigned open cases of ``self`` to their team's agents."""
        queued = self.filtered(
            lambda case: not case.user_id and not case.is_closed and case.team_id.social_assignment != "manual"
        )
        if queued:
            queued.team_id._social_assign(queued)

    def _record_first_reply(self, when):
        """The customer got an answer at ``when``: the first one counts."""
        self.filtered(lambda case: not case.first_reply_at or case.first_reply_at > when).sudo().write(
            {"first_reply_at": when}
        )

    def _message_post_after_hook(self, message, msg_vals):
        """A message an agent sends to the customer from the case is a reply;
        a note is not."""
        result = super()._message_post_after_hook(message, msg_vals)
        comment = self.env.ref("mail.mt_comment")
        recipients = message.partner_ids | self.message_partner_ids
        if (
            message.subtype_id == comment
            and self.partner_id
            and self.partner_id in recipients
            and message.author_id != self.partner_id
            and self.env.user._is_internal()
        ):
            self._record_first_reply(message.date)
        return result

    def _log_on_partner(self, text):
        """The customer's chatter tells when a case opens and closes for them,
        with a link to it; the case's own chatter has the rest."""
        link = Markup('<a href="#" data-oe-model="social.case" data-oe-id="%s">%s</a>') % (self.id, text)
        self.partner_id.sudo()._message_log(body=link)

    @api.depends("reference", "name")
    def _compute_display_name(self):
        for case in self:
            case.display_name = f"{case.reference} {case.name}" if case.reference else case.name

    # ------------------------------------------------------------------
    # Email: the case alias
    # ------------------------------------------------------------------

    @api.model
    @api.private
    def message_new(self, msg_dict, custom_values=None):
        """Mail to the case alias joins the open case of the same contact
        (the customer who moved from a public post to email stays in one
        case), else opens a case for them. The mail gateway then posts the
        mail on the case returned."""
        email = email_normalize(msg_dict.get("email_from") or "")
        partner = self.env["res.partner"].browse(msg_dict.get("author_id") or [])
        if not partner and email:
            partner = self.env["mail.thread"]._mail_find_partner_from_emails([email], force_create=True)[0]
        if partner:
            open_case = self.search([("partner_id", "=", partner.id), ("is_closed", "=", False)], limit=1)
            if open_case:
                return open_case
        values = {"partner_id": partner.id, **(custom_values or {})}
        case = super().message_new(msg_dict, custom_values=values)
        if partner:
            case.message_subscribe(partner_ids=partner.ids)
        return case

    # ------------------------------------------------------------------
    # Replies
    # ------------------------------------------------------------------

    def _reply_conversation(self):
        """The conversation a reply on the case goes to: its public thread
        with the latest activity, else its latest one."""
        self.ensure_one()
        conversations = self.conversation_ids.sorted(lambda c: c.last_activity_at or datetime.min, reverse=True)
        return conversations.filtered(lambda c: c.visibility != "private")[:1] or conversations[:1]

    def action_reply(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "reply", self)

    def action_private_message(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "direct", self)

    def action_handoff(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "handoff", self)

    def action_close_with_note(self):
        return self.env["social.reply.wizard"]._action_open(self._reply_conversation(), "close", self)

    def action_view_conversations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_conversation_action")
        action["domain"] = [("case_id", "in", self.ids)]
        action["context"] = {"default_case_id": self.id}
        return action

    @api.model
    def _cron_check_sla(self):
        """Flag the cases whose deadline passed, and warn the team leader of
        those close to it with an activity, once per deadline."""
        now = fields.Datetime.now()
        late = self.search(
            [("sla_breached", "=", False), ("sla_deadline", "!=", False), ("sla_deadline", "<", now)]
        )
        if late:
            self.env.add_to_compute(self._fields["sla_breached"], late)
            late.flush_recordset(["sla_breached"])
        near = self.search(
            [("sla_breached", "=", False), ("sla_warn_at", "!=", False), ("sla_warn_at", "<=", now)]
        ).filtered(lambda case: case.sla_warned_deadline != case.sla_deadline and case.team_id.user_id)
        for case in near:
            replying = case.sla_deadline == case.sla_reply_deadline
            kind = self.env._("first reply") if replying else self.env._("resolution")
            case.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(case, case.sla_deadline),
                summary=self.env._("SLA: %(kind)s due soon", kind=kind),
                note=self.env._(
                    "The %(kind)s of %(case)s is due on %(deadline)s (UTC).",
                    kind=kind,
                    case=case.display_name,
                    deadline=fields.Datetime.to_string(case.sla_deadline),
                ),
                user_id=case.team_id.user_id.id,
            )
            case.sla_warned_deadline = case.sla_deadline
        self.env["ir.cron"]._notify_progress(done=len(late) + len(near), remaining=0)

    @api.model
    def _cron_assign_queued(self):
        """Hand the queued cases to agents with room (capacity raised, agents added)."""
        self.env["crm.team"].search([("social_assignment", "!=", "manual")])._social_assign_queue()
