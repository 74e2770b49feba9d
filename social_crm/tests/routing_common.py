from datetime import datetime

from .common import SocialCrmCase


class RoutingCase(SocialCrmCase):
    """A team with agents, a customer with a tag, and threads made through
    the ORM as the sync stores them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent_a = cls.make_user("agent_a", "social_crm.group_social_crm_user,sales_team.group_sale_salesman")
        cls.agent_b = cls.make_user("agent_b", "social_crm.group_social_crm_user,sales_team.group_sale_salesman")
        cls.leader = cls.make_user("leader", "social_crm.group_social_crm_user,sales_team.group_sale_salesman")
        cls.team = cls.env["crm.team"].create({"name": "Support", "user_id": cls.leader.id})
        cls.vip = cls.env["res.partner.category"].create({"name": "VIP"})
        cls.customer = cls.env["res.partner"].create({"name": "Trailhead Outfitters", "category_id": [cls.vip.id]})
        cls.feed = cls.make_source("https://blog.example/feed", name="Gear blog", team_id=cls.team.id)
        cls.mastodon = cls.env["social.source"].create(
            {"name": "Mastodon #tents", "platform": "mastodon", "mode": "hashtag", "target": "tents"}
        )
        cls.serial = 0

    @classmethod
    def make_identity(cls, platform="mastodon", partner=None, name="Ana Moreau"):
        cls.serial += 1
        return cls.env["social.identity"].create(
            {
                "platform": platform,
                "external_id": f"author-{cls.serial}",
                "handle": f"@ana{cls.serial}",
                "name": name,
                "partner_id": partner.id if partner else False,
            }
        )

    @classmethod
    def make_post(cls, text, source=None, language="en", author=None, conversation=None, posted_at=None):
        """A new inbound post, in a new thread unless ``conversation`` is given."""
        source = source or cls.mastodon
        cls.serial += 1
        key = f"post-{cls.serial}"
        if conversation is None:
            conversation = cls.env["social.conversation"].create(
                {
                    "platform": source.platform,
                    "thread_key": key,
                    "source_id": source.id,
                    "team_id": source.team_id.id,
                }
            )
        return cls.env["social.message"].create(
            {
                "platform": source.platform,
                "external_id": key,
                "source_id": source.id,
                "conversation_id": conversation.id,
                "author_id": (author or cls.make_identity(source.platform)).id,
                "body": f"<p>{text}</p>",
                "language": language,
                "posted_at": posted_at or datetime(2026, 11, 20, 9, cls.serial % 60),
            }
        )

    def make_rule(self, **values):
        return self.env["social.routing.rule"].create({"name": values.pop("name", "Rule"), **values})

    def route(self, messages, source=None):
        self.env["social.routing.rule"]._route(source or self.mastodon, messages)
