import hashlib
import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.modules import module
from odoo.tools import plaintext2html

from .. import channels, insight
from .cron_batches import run_in_batches
from .platforms import FAILURES, INFO, PLATFORMS

_logger = logging.getLogger(__name__)

RETENTION_BATCH = 5000
#: queued replies the cron publishes per run
PUBLISH_BATCH = 50
#: states of the replies and direct messages we write (pulled posts have none)
OUTBOUND_STATES = [("draft", "Draft"), ("queued", "Queued"), ("published", "Published"), ("failed", "Failed")]
#: messages scored per batch by the scheduled scoring, one commit each
SCORE_BATCH = 2000
#: batches per cron call; the cron runner calls again while some remain
SCORE_BATCHES_PER_RUN = 10

#: what the sentiment roll-ups of conversations, authors and contacts follow
ROLLUP_INPUTS = {"conversation_id", "author_id", "sentiment_state", "sentiment_score", "sentiment_label"}
#: context key: the caller refreshes the roll-ups once for the whole batch
ROLLUPS_LATER = "social_crm_rollups_later"

SENTIMENT_STATES = [("pending", "To score"), ("scored", "Scored"), ("not_scored", "Not scored")]
SENTIMENT_LABELS = [("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative")]

#: what a re-pull may change besides the content: engagement counts
COUNT_FIELDS = ("like_count", "repost_count", "reply_count")
#: what a re-pull rewrites when the content's fingerprint changed
CONTENT_FIELDS = (
    "title",
    "body",
    "url",
    "media",
    "link_url",
    "link_title",
    "link_description",
    "quoted_external_id",
    "labels",
    "content_warning",
    "is_sensitive",
    "content_hash",
)


class SocialMessage(models.Model):
    """A post, reply, comment or private message, as pulled from a platform."""

    _name = "social.message"
    _description = "Social Message"
    _inherit = ["social.access.mixin"]
    _order = "posted_at desc nulls last, id desc"
    _rec_name = "summary"
    #: what the summary is made of: searching by name searches these
    _rec_names_search = ["title", "body_text", "external_id"]

    external_id = fields.Char(
        "External ID", index=True, copy=False, help="The platform's id of the post; empty until a reply is published."
    )
    platform = fields.Selection(PLATFORMS, required=True, index=True)
    source_id = fields.Many2one("social.source", index="btree_not_null", ondelete="set null")
    conversation_id = fields.Many2one("social.conversation", required=True, index=True, ondelete="cascade")
    parent_id = fields.Many2one("social.message", string="In reply to", index="btree_not_null", ondelete="set null")
    parent_external_id = fields.Char(
        "Reply to (external ID)",
        index="btree_not_null",
        help="Kept so that a reply stored before its parent is threaded when the parent arrives.",
    )
    child_ids = fields.One2many("social.message", "parent_id", string="Replies")
    case_id = fields.Many2one(related="conversation_id.case_id", string="Case")
    lead_id = fields.Many2one(
        "crm.lead",
        compute="_compute_lead_id",
        groups="sales_team.group_sale_salesman",
        help="The lead made from the post's conversation, shown with the post on the contact's timeline.",
    )
    author_id = fields.Many2one("social.identity", index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="author_id.partner_id", store=True, index="btree_not_null")
    author_name = fields.Char(related="author_id.name", string="Author name")
    author_handle = fields.Char(related="author_id.handle", string="Author handle")
    parent_author_id = fields.Many2one(related="parent_id.author_id", string="In reply to author")
    title = fields.Char()
    body = fields.Html(sanitize=True, sanitize_attributes=True, strip_style=True)
    body_text = fields.Text("Text", compute="_compute_body_text", store=True)
    summary = fields.Char(compute="_compute_summary")
    url = fields.Char("URL")
    posted_at = fields.Datetime(index=True)
    visibility = fields.Selection([("public", "Public"), ("private", "Private")], required=True, default="public")
    direction = fields.Selection([("inbound", "Inbound"), ("outbound", "Outbound")], required=True, default="inbound")
    language = fields.Char(help="As the platform gave it; identified from the text when it gave none.")
    language_identified = fields.Boolean(
        "Language identified", readonly=True, help="The platform gave no language: it was identified from the text."
    )
    sentiment_state = fields.Selection(
        SENTIMENT_STATES,
        string="Sentiment",
        required=True,
        default="pending",
        readonly=True,
        index=True,
        help="Not scored: our own messages, messages without text, and messages in a language the scorer "
        "does not read (it reads English) or whose language could not be told.",
    )
    sentiment_score = fields.Float(
        readonly=True, digits=(3, 2), aggregator="avg", help="From -1 (negative) to 1 (positive); scored messages only."
    )
    sentiment_label = fields.Selection(SENTIMENT_LABELS, readonly=True, index="btree_not_null")
    like_count = fields.Integer("Likes")
    repost_count = fields.Integer("Reposts")
    reply_count = fields.Integer("Reply count")
    company_id = fields.Many2one(related="conversation_id.company_id", store=True, index=True)
    media = fields.Json(
        help="Images, videos and sounds the post carries: links to the platform's copies with their alt text "
        "(url, kind, alt, preview_url), never the files."
    )
    link_url = fields.Char("Link card URL")
    link_title = fields.Char("Link card title")
    link_description = fields.Text("Link card description")
    quoted_external_id = fields.Char("Quotes (external ID)", help="The post this one quotes, stored or not.")
    quoted_message_id = fields.Many2one(
        "social.message", string="Quotes", compute="_compute_quoted_message_id", help="The quoted post, once stored."
    )
    labels = fields.Char(help="Moderation and self-labels of the post (Bluesky), comma-separated.")
    content_warning = fields.Char(help="The warning the author put before the content (Mastodon).")
    is_sensitive = fields.Boolean("Sensitive", help="Marked sensitive by its author or the platform.")
    is_collapsed = fields.Boolean(
        "Hidden by default", compute="_compute_is_collapsed", help="Labelled, sensitive or behind a content warning."
    )
    content_html = fields.Html(
        "Content",
        compute="_compute_content_html",
        sanitize=True,
        sanitize_attributes=True,
        strip_style=True,
        help="The body, then its media as links and its link card; folded when the post is labelled or sensitive.",
    )
    content_hash = fields.Char(
        copy=False, help="Fingerprint of the content as the platform sent it: a re-pull rewrites it only on change."
    )
    cid = fields.Char("Content ID", copy=False, help="Bluesky: the record's CID, which a reply to it must name.")
    # replies and direct messages we write, as Odoo's SMS: a state, the failure and a retry
    state = fields.Selection(
        OUTBOUND_STATES,
        copy=False,
        index="btree_not_null",
        help="Of the replies and direct messages written here: Published once the platform took it; Failed keeps "
        "the draft with the platform's reason, to retry; Queued waits for the platform to be reachable again.",
    )
    recipient_id = fields.Many2one(
        "social.identity", string="Direct message to", ondelete="set null", help="Sent as a direct message to them."
    )
    failure_type = fields.Selection(FAILURES, copy=False)
    failure_reason = fields.Text(copy=False, help="Why the platform did not publish it, in its own words.")
    idea_checked = fields.Boolean(copy=False, help="Read once by the scheduled capture of ideas.")
    idea_vote_ids = fields.One2many("social.idea.vote", "message_id", string="Ideas raised")

    _sql_constraints = [
        ("platform_external_id_unique", "UNIQUE(platform, external_id)", "This post is already stored."),
        (
            "external_id_published",
            "CHECK(external_id IS NOT NULL OR state IN ('draft', 'queued', 'failed'))",
            "A post from the platform, or a published reply, has its external ID.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        """Sentiment roll-ups follow (once per batch when the caller says so);
        an outbound post pulled into a case's conversation is the case's
        reply (a reply we write counts once published: ``_record_published``)."""
        messages = super().create(vals_list)
        if not self.env.context.get(ROLLUPS_LATER):
            messages._refresh_sentiment_rollups()
        first_replies = {}
        for message in messages.filtered(lambda message: message.direction == "outbound" and not message.state):
            case, when = message.conversation_id.case_id, message.posted_at or fields.Datetime.now()
            if case:
                first_replies[case] = min(first_replies.get(case, when), when)
        for case, when in first_replies.items():
            case._record_first_reply(when)
        return messages

    def write(self, vals):
        if self.env.context.get(ROLLUPS_LATER) or not ROLLUP_INPUTS.intersection(vals):
            return super().write(vals)
        before = self._rollup_targets()
        result = super().write(vals)
        self._refresh_sentiment_rollups(before)
        return result

    def unlink(self):
        targets = self._rollup_targets()
        result = super().unlink()
        self.browse()._refresh_sentiment_rollups(targets)
        return result

    def _rollup_targets(self):
        return self.conversation_id, self.author_id, self.partner_id

    def _refresh_sentiment_rollups(self, before=None):
        """Refresh the sentiment of the conversations, authors and contacts
        of ``self`` and of ``before`` (what ``_rollup_targets`` returned
        before a change): one UPDATE per model, whatever the batch size."""
        for now, earlier in zip(self._rollup_targets(), before or (None, None, None)):
            (now if earlier is None else now | earlier)._refresh_social_sentiment()

    @api.depends("conversation_id.lead_ids")
    def _compute_lead_id(self):
        for message in self:
            message.lead_id = message.conversation_id.lead_ids[:1]

    @api.depends("body", "media")
    def _compute_body_text(self):
        """The body as text; a post of media only reads as its media
        (``[image: alt text]``), so that lists and searches find it."""
        for message in self:
            message.body_text = channels.html_to_text(message.body) or "\n".join(
                self._media_label(item) for item in message.media or ()
            )

    @api.depends("title", "body_text", "author_id", "is_collapsed", "content_warning", "labels")
    def _compute_summary(self):
        for message in self:
            if message.is_collapsed:
                reason = message.content_warning or message.labels or self.env._("sensitive")
                text = self.env._("Hidden: %(reason)s", reason=reason)
            else:
                text = message.title or message.body_text or ""
            message.summary = (text[:60] + "…") if len(text) > 60 else text or message.external_id

    @api.depends("labels", "content_warning", "is_sensitive")
    def _compute_is_collapsed(self):
        for message in self:
            message.is_collapsed = bool(message.labels or message.content_warning or message.is_sensitive)

    @api.depends("platform", "quoted_external_id")
    def _compute_quoted_message_id(self):
        """One search for the quoted posts of all of ``self``."""
        wanted = [message.quoted_external_id for message in self if message.quoted_external_id]
        found = self.search_fetch([("external_id", "in", wanted)], ["platform", "external_id"]) if wanted else []
        by_key = {(quoted.platform, quoted.external_id): quoted for quoted in found}
        for message in self:
            message.quoted_message_id = by_key.get((message.platform, message.quoted_external_id), False)

    def _media_label(self, item):
        """``[image: alt text]``: how a medium reads as text and as a link."""
        kinds = {
            "image": self.env._("image"),
            "video": self.env._("video"),
            "gif": self.env._("GIF"),
            "audio": self.env._("audio"),
            "other": self.env._("attachment"),
        }
        kind = kinds.get(item.get("kind"), kinds["other"])
        return f"[{kind}: {item['alt']}]" if item.get("alt") else f"[{kind}]"

    @api.depends("body", "media", "link_url", "link_title", "link_description", "is_collapsed", "summary")
    def _compute_content_html(self):
        """The body, the media as links (remote images never load by
        themselves) and the link card; inside a closed ``<details>`` whose
        summary says why when the post is labelled or sensitive."""
        for message in self:
            content = Markup(message.body or "")
            if message.media:
                content += Markup("<ul>%s</ul>") % Markup().join(
                    Markup('<li><a href="%s" target="_blank" rel="noopener noreferrer">%s</a></li>')
                    % (item["url"], self._media_label(item))
                    for item in message.media
                )
            if message.link_url:
                content += Markup(
                    '<blockquote><a href="%s" target="_blank" rel="noopener noreferrer">%s</a><br/>%s</blockquote>'
                ) % (message.link_url, message.link_title or message.link_url, message.link_description or "")
            if message.is_collapsed:
                content = Markup("<details><summary>%s</summary>%s</details>") % (message.summary, content)
            message.content_html = content

    def action_capture_idea(self):
        """Capture these messages as ideas by hand (grouped with a similar
        idea when there is one) and open the idea."""
        ideas = self.env["social.idea"]._capture([(message, None) for message in self], method="manual")
        ideas |= self.idea_vote_ids.idea_id
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_idea_action")
        if len(ideas) == 1:
            action.update(res_id=ideas.id, view_mode="form", views=[(False, "form")])
        else:
            action["domain"] = [("id", "in", ideas.ids)]
        return action

    def action_create_case(self):
        """Open a case for this post's conversation, from this post."""
        self.ensure_one()
        return self.conversation_id._create_case(self)

    def action_create_lead(self):
        """Turn this post into a lead, linked to its conversation."""
        self.ensure_one()
        return self.conversation_id._create_lead(self)

    def action_open_partner(self):
        """The author's contact, one click from the post."""
        self.ensure_one()
        return self._form_action(self.partner_id)

    def action_open_author(self):
        """The author's contact if linked, else their social identity."""
        self.ensure_one()
        return self._form_action(self.partner_id or self.author_id)

    def action_open_conversation(self):
        self.ensure_one()
        return self._form_action(self.conversation_id)

    def action_open_case(self):
        self.ensure_one()
        return self._form_action(self.case_id)

    def action_open_lead(self):
        self.ensure_one()
        return self._form_action(self.lead_id)

    @api.model
    def _form_action(self, record):
        if not record:
            return False
        record.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _odoo_values(self, post):
        """Values of a channel ``Post``, except its links to other records."""
        return {
            "title": post.title or False,
            # remote images load only when asked: no tracking pixel on opening
            "body": channels.without_remote_images(post.body_html) or False,
            "url": post.url or False,
            "posted_at": post.posted_at or False,
            "visibility": post.visibility,
            "direction": post.direction,
            "language": post.language or False,
            "like_count": post.like_count,
            "repost_count": post.repost_count,
            "reply_count": post.reply_count,
            "media": [
                {"url": item.url, "kind": item.kind, "alt": item.alt, "preview_url": item.preview_url}
                for item in post.media
            ]
            or False,
            "link_url": post.link_card.url if post.link_card else False,
            "link_title": (post.link_card.title if post.link_card else "") or False,
            "link_description": (post.link_card.description if post.link_card else "") or False,
            "quoted_external_id": post.quoted_id or False,
            "labels": ", ".join(post.labels) or False,
            "content_warning": post.content_warning or False,
            "is_sensitive": post.sensitive,
            "content_hash": self._content_hash(post),
            # Bluesky only: no column to write for the other platforms' posts
            **({"cid": post.cid} if post.cid else {}),
        }

    @api.model
    def _sentiment_of_values(self, values):
        """Language and sentiment of a pulled post, read before it is stored:
        scored in the same INSERT or UPDATE as its content."""
        return self._sentiment_values(
            self._analyze(values["title"], values["body"], values["language"], values["direction"])
        )

    @api.model
    def _content_hash(self, post):
        """The fingerprint of what a post shows; a post with nothing besides
        its text keeps the fingerprint it had before media were read."""
        content = f"{post.title}\0{post.body_html}\0{post.url}"
        extras = (post.media, post.link_card, post.quoted_id, post.labels, post.content_warning, post.sensitive)
        if any(extras):
            content += "\0" + repr(extras)
        return hashlib.sha1(content.encode()).hexdigest()

    @api.model
    def _upsert_posts(self, source, posts, identities, conversations):
        """Store ``posts``: one search for those already known, one create for
        the new ones, a write only where content changed; then thread the
        replies whose parent is now known, in either order of arrival.
        Returns the new messages."""
        posts = list({post.external_id: post for post in posts}.values())
        found = self.search([("platform", "=", source.platform), ("external_id", "in", [p.external_id for p in posts])])
        by_external_id = {message.external_id: message for message in found}
        parents = self._stored_by_external_id(
            source.platform, {post.parent_id for post in posts if post.parent_id} - set(by_external_id)
        )
        parents.update(by_external_id)
        to_create = []
        rewritten = self.browse()
        for post in posts:
            values = self._odoo_values(post)
            message = by_external_id.get(post.external_id)
            if message is None:
                author = identities.get(post.author_id)
                to_create.append(
                    {
                        **values,
                        **self._sentiment_of_values(values),
                        "external_id": post.external_id,
                        "platform": source.platform,
                        "source_id": source.id,
                        "conversation_id": conversations[post.thread_key].id,
                        "author_id": author.id if author else False,
                        "parent_external_id": post.parent_id or False,
                        "parent_id": parents[post.parent_id].id if post.parent_id in parents else False,
                    }
                )
                continue
            changed = self._changed_values(message, values)
            if "body" in changed:
                changed.update(self._sentiment_of_values(values))
            if changed:
                message.with_context(**{ROLLUPS_LATER: True}).write(changed)
                if "body" in changed:
                    rewritten |= message
        created = self.with_context(**{ROLLUPS_LATER: True}).create(to_create).with_env(self.env)
        self._link_parents(source.platform, created)
        # Every computed column of the new rows (text, company, contact,
        # reply link) in one UPDATE per row: what follows (roll-ups, routing)
        # reads some of them, and a flush of only those would leave the rest
        # for a second UPDATE of the same rows.
        self.flush_model()
        # messages not scored count in no roll-up: a new one changes none
        (created.filtered(lambda message: message.sentiment_state == "scored") | rewritten)._refresh_sentiment_rollups()
        return created

    @api.model
    def _stored_by_external_id(self, platform, external_ids):
        if not external_ids:
            return {}
        stored = self.search_fetch(
            [("platform", "=", platform), ("external_id", "in", list(external_ids))], ["external_id"]
        )
        return {message.external_id: message for message in stored}

    @api.model
    def _changed_values(self, message, values):
        """What a re-pull changes: the content when its fingerprint differs
        (no sanitizing to compare), and the engagement counts."""
        changed = {name: values[name] for name in COUNT_FIELDS if message[name] != values[name]}
        if values.get("cid") and message.cid != values["cid"]:  # stored before CIDs were
            changed["cid"] = values["cid"]
        if values["direction"] == "outbound" and message.direction != "outbound":
            # the company's account became known: never the other way round,
            # a reply we published stays ours whatever a later pull knows
            changed["direction"] = "outbound"
        if message.content_hash != values["content_hash"]:
            changed.update({name: values[name] for name in CONTENT_FIELDS})
        return changed

    @api.model
    def _link_parents(self, platform, created):
        """Thread what the creation could not: new replies whose parent came
        in the same batch, and stored replies that arrived before a parent
        among ``created``. One search led by an index; the links are written
        by the flush that also writes the new posts' computed text, so that a
        new reply's row is updated once, whatever the batch size."""
        new_by_external_id = {message.external_id: message for message in created}
        if not new_by_external_id:
            return
        waiting = created.filtered(
            lambda message: message.parent_external_id in new_by_external_id and not message.parent_id
        )
        waiting |= self.search_fetch(
            [
                ("platform", "=", platform),
                ("parent_id", "=", False),
                ("parent_external_id", "in", list(new_by_external_id)),
            ],
            ["parent_external_id"],
        )
        for parent_external_id, replies in waiting.grouped("parent_external_id").items():
            replies.parent_id = new_by_external_id[parent_external_id]

    def _score_sentiment(self):
        """Language and sentiment of ``self``, stored. Messages that read
        alike (same language and score to the hundredth, the precision the
        score carries) are written together: one write per group."""
        groups = defaultdict(self.browse)
        for message in self:
            result = self._analyze(message.title, message.body, message.language, message.direction)
            groups[result] |= message
        for result, messages in groups.items():
            messages.with_context(**{ROLLUPS_LATER: True}).write(self._sentiment_values(result))
        self._refresh_sentiment_rollups()

    @api.model
    def _analyze(self, title, body, language, direction):
        """What ``insight`` reads in a message's title and body; our own
        (outbound) messages are not scored."""
        if direction == "outbound":
            return insight.Sentiment(language or "", identified=False, scored=False)
        return insight.analyze("\n".join(filter(None, (title, insight.plain_text(body)))), language)

    @api.model
    def _sentiment_values(self, result):
        """Values of an ``insight.Sentiment``; a language found is kept."""
        values = {
            "sentiment_state": "scored" if result.scored else "not_scored",
            "sentiment_score": result.score,
            "sentiment_label": result.label or False,
        }
        if result.language:
            values.update(language=result.language, language_identified=result.identified)
        return values

    @api.model
    def _cron_score_sentiment(self, commit=None):
        """Score the messages waiting for it (created outside a pull, or all
        of them after *Score all messages again*), batch by batch."""
        if commit is None:
            commit = not module.current_test
        return run_in_batches(
            self,
            [("sentiment_state", "=", "pending")],
            lambda messages: messages._score_sentiment(),
            SCORE_BATCH,
            SCORE_BATCHES_PER_RUN,
            commit,
        )

    @api.model
    def _reset_sentiment(self):
        """Mark every message as waiting for scoring, in one UPDATE: the
        scheduled scoring then goes through them in batches."""
        self.flush_model(["sentiment_state"])
        self.env.cr.execute("UPDATE social_message SET sentiment_state = 'pending' WHERE sentiment_state != 'pending'")
        self.invalidate_model(["sentiment_state"])

    @api.model
    def _cron_apply_retention(self):
        """Delete the messages of accounts linked to no partner once they are
        older than the retention setting (days; 0 keeps everything)."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("social_crm.retention_days") or 0)
        if days <= 0:
            return
        domain = [("posted_at", "<", fields.Datetime.now() - timedelta(days=days)), ("partner_id", "=", False)]
        expired = self.search(domain, limit=RETENTION_BATCH)
        conversations = expired.conversation_id
        expired.unlink()
        conversations.filtered(lambda conversation: not conversation.post_ids).unlink()
        self.env["ir.cron"]._notify_progress(
            done=len(expired), remaining=self.search_count(domain) if len(expired) == RETENTION_BATCH else 0
        )

    # ------------------------------------------------------------------
    # Replies and direct messages we publish
    # ------------------------------------------------------------------

    @api.model
    def _create_outbound(self, conversation, text, parent=None, recipient=None):
        """A draft reply in ``conversation`` to ``parent``, or a direct
        message to ``recipient``. A private X thread has no replies: it is
        answered by a direct message to the customer."""
        parent = parent or self.browse()
        if not recipient and conversation.platform == "x" and conversation.visibility == "private":
            latest = conversation.post_ids.filtered(lambda post: post.direction == "inbound")[:1]
            recipient = (parent if parent.direction == "inbound" else latest).author_id
        return self.create(
            {
                "platform": conversation.platform,
                "conversation_id": conversation.id,
                "source_id": conversation.source_id.id,
                "parent_id": parent.id if not recipient else False,
                "recipient_id": recipient.id if recipient else False,
                "body": plaintext2html(text),
                "direction": "outbound",
                "visibility": "private" if recipient or conversation.visibility == "private" else "public",
                "state": "draft",
            }
        )

    def action_retry(self):
        """Publish the kept drafts again. Only someone who works the case
        (or the conversation) may; the source's credentials are used as
        superuser for the call alone."""
        self.conversation_id._check_can_reply()
        drafts = self.filtered(lambda message: message.state in ("draft", "queued", "failed"))
        drafts.sudo()._publish()
        failed = drafts.filtered(lambda message: message.state != "published")
        if failed:
            return self._failure_notification(failed)
        return True

    @api.model
    def _failure_notification(self, failed):
        """A sticky notification with the platform's reason."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "danger",
                "sticky": True,
                "title": self.env._("Not published"),
                "message": "\n".join(failed.mapped("failure_reason")),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _publish(self):
        """Publish each draft through its source's client and record the
        outcome on it and in the case's chatter. Never commits: a refusal is
        stored on the message (its draft kept), not raised."""
        for message in self:
            message._publish_one()

    def _publish_one(self):
        source = self.source_id or self.conversation_id.source_id
        if not source:
            self._record_failure(channels.ConfigError(self.env._("The conversation has no source to publish with.")))
            return
        client = channels.client_for(source._channel_settings())
        # one key per message and database: a retry after a lost answer is published once
        key = f"social-crm-{self.env['ir.config_parameter'].sudo().get_param('database.uuid')}-{self.id}"
        try:
            if self.recipient_id:
                recipient = channels.Recipient(self.recipient_id.external_id, self.recipient_id.handle or "")
                published = client.send_direct(recipient, self.body_text, idempotency_key=key)
            else:
                published = client.publish(self.body_text, reply_to=self._reply_target(), idempotency_key=key)
        except channels.ChannelError as error:
            self._record_failure(error)
        else:
            self._record_published(published)
        finally:
            if client.credential_updates:
                source._store_credentials(client.credential_updates)

    def _reply_target(self):
        """The parent as the channel layer names it, CIDs included."""
        parent = self.parent_id
        if not parent:
            return None
        conversation = parent.conversation_id
        root = conversation.root_message_id
        return channels.ReplyTarget(
            parent.external_id,
            thread_key=conversation.thread_key,
            author_handle=parent.author_id.handle or "",
            cid=parent.cid or "",
            root_cid=(root.cid if root.external_id == conversation.thread_key else "") or "",
        )

    def _record_published(self, published):
        """The platform's ids on the message; a direct message that opened
        a thread of its own moves to that thread, in the same case."""
        conversation = self.conversation_id
        if published.thread_key != conversation.thread_key:
            conversation = conversation._private_thread(published.thread_key)
        self.write(
            {
                "state": "published",
                "external_id": published.external_id,
                "conversation_id": conversation.id,
                "url": published.url or False,
                "posted_at": published.posted_at or fields.Datetime.now(),
                "body": plaintext2html(published.text) if published.text else self.body,
                "cid": published.cid or False,
                "failure_type": False,
                "failure_reason": False,
            }
        )
        conversation.case_id._record_first_reply(self.posted_at)
        link = Markup('<a href="%s" target="_blank" rel="noopener noreferrer">%s</a>') % (
            self.url,
            self.env._("see it on the platform"),
        )
        self._log_on_case(
            self.env._("Direct message sent on %(platform)s", platform=self._platform_label())
            if self.recipient_id
            else self.env._("Reply published on %(platform)s", platform=self._platform_label()),
            self.url and link,
        )

    def _record_failure(self, error):
        """Keep the draft with the platform's reason; an outage or a rate
        limit queues it for the cron."""
        _logger.warning("Social message %s not published [%s]: %s", self.id, error.code, error.message)
        self.write(
            {
                "state": "queued" if error.retryable else "failed",
                "failure_type": error.code,
                "failure_reason": error.message,
            }
        )
        self._log_on_case(
            self.env._(
                "Not published on %(platform)s: %(reason)s", platform=self._platform_label(), reason=error.message
            ),
            self.env._("The draft is kept on the reply: retry it from there."),
        )

    def _platform_label(self):
        return INFO[self.platform].label

    def _log_on_case(self, title, detail):
        """A note in the chatter of the case, else of the conversation, with
        the text as written."""
        thread = self.conversation_id.case_id or self.conversation_id
        body = Markup("<p><strong>%s</strong></p><blockquote>%s</blockquote>") % (title, self.body or "")
        if detail:
            body += Markup("<p>%s</p>") % detail
        thread.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")

    @api.model
    def _cron_publish_queued(self, batch_size=PUBLISH_BATCH):
        """Publish the replies an outage or a rate limit queued."""
        queued = self.search([("state", "=", "queued")], limit=batch_size, order="id")
        for message in queued:
            message._publish_one()
            if not module.current_test:
                # one commit per message: a message published stays published
                # whatever happens to the next one
                self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.search_count([("state", "=", "queued")]) if len(queued) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(queued), remaining=remaining)
