from itertools import count

from .common import SocialCrmCase

_keys = count()


class ReachCase(SocialCrmCase):
    """A sender besides the users of :class:`SocialCrmCase`, and contacts
    with accounts and messages made directly, without a pull."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sender = cls.make_user("social_sender", "social_crm.group_social_crm_sender")

    @classmethod
    def account(cls, partner, platform="mastodon", handle=None, **values):
        key = next(_keys)
        return cls.env["social.identity"].create(
            {
                "platform": platform,
                "external_id": f"{platform}:{key}",
                "handle": handle or f"user{key}",
                "partner_id": partner.id if partner else False,
                **values,
            }
        )

    @classmethod
    def message(cls, author, text, posted_at=None, language="en", **values):
        key = next(_keys)
        conversation = cls.env["social.conversation"].create({"platform": author.platform, "thread_key": f"t{key}"})
        return cls.env["social.message"].create(
            {
                "platform": author.platform,
                "external_id": f"m{key}",
                "conversation_id": conversation.id,
                "author_id": author.id,
                "posted_at": posted_at or "2026-11-20 10:00:00",
                "body": f"<p>{text}</p>",
                "language": language,
                **values,
            }
        )
