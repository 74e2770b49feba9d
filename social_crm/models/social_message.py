import hashlib
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.modules import module
from odoo.tools import SQL, html2plaintext

from .. import channels, insight
from .cron_batches import run_in_batches
from .platforms import PLATFORMS

RETENTION_BATCH = 5000
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

    external_id = fields.Char("External ID", required=True, index=True, copy=False)
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
    author_id = fields.Many2one("social.identity", index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="author_id.partner_id", store=True, index="btree_not_null")
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

    _sql_constraints = [
        ("platform_external_id_unique", "UNIQUE(platform, external_id)", "This post is already stored."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        if not self.env.context.get(ROLLUPS_LATER):
            messages._refresh_sentiment_rollups()
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

    @api.depends("body", "media")
    def _compute_body_text(self):
        """The body as text; a post of media only reads as its media
        (``[image: alt text]``), so that lists and searches find it."""
        for message in self:
            message.body_text = html2plaintext(message.body or "").strip() or "\n".join(
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
        replies whose parent is now known, in either order of arrival."""
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
        # messages not scored count in no roll-up: a new one changes none
        (created.filtered(lambda message: message.sentiment_state == "scored") | rewritten)._refresh_sentiment_rollups()
        return found | created

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
        if message.content_hash != values["content_hash"]:
            changed.update({name: values[name] for name in CONTENT_FIELDS})
        return changed

    @api.model
    def _link_parents(self, platform, created):
        """Thread what the creation could not: new replies whose parent came
        in the same batch, and stored replies that arrived before a parent
        among ``created``. One search and one UPDATE, each led by an index,
        whatever the batch size."""
        new_ids = {message.external_id: message.id for message in created}
        if not new_ids:
            return
        waiting = created.filtered(lambda message: message.parent_external_id and not message.parent_id)
        waiting |= self.search_fetch(
            [("platform", "=", platform), ("parent_id", "=", False), ("parent_external_id", "in", list(new_ids))],
            ["parent_external_id"],
        )
        links = {
            reply.id: new_ids[reply.parent_external_id] for reply in waiting if reply.parent_external_id in new_ids
        }
        if not links:
            return
        self.flush_model(["parent_id"])
        self.env.cr.execute(
            SQL(
                "UPDATE social_message SET parent_id = link.parent_id FROM (VALUES %s) AS link(id, parent_id)"
                " WHERE social_message.id = link.id",
                SQL(", ").join(SQL("(%s, %s)", reply_id, parent_id) for reply_id, parent_id in links.items()),
            )
        )
        self.invalidate_model(["parent_id", "child_ids"])

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
