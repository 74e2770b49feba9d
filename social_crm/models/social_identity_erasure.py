import hashlib
import logging

from odoo import api, fields, models

from .platforms import PLATFORMS

_logger = logging.getLogger(__name__)


class SocialIdentityErasure(models.Model):
    """What is left of an erased account: a hash of its id, so that later
    pulls skip it, and who erased it when. No personal data."""

    _name = "social.identity.erasure"
    _description = "Erased social identity"
    _order = "id desc"

    platform = fields.Selection(PLATFORMS, required=True)
    external_id_hash = fields.Char(required=True, index=True)
    message_count = fields.Integer(help="How many messages were erased with the account.")

    _sql_constraints = [
        ("platform_hash_unique", "UNIQUE(platform, external_id_hash)", "This account is already erased."),
    ]

    @staticmethod
    def _hash(external_id):
        return hashlib.sha256(external_id.encode()).hexdigest()

    @api.model
    def _erase(self, identities):
        messages = identities.message_ids
        conversations = messages.conversation_id
        counts = {identity: len(identity.message_ids) for identity in identities}
        self.sudo().create(
            [
                {
                    "platform": identity.platform,
                    "external_id_hash": self._hash(identity.external_id),
                    "message_count": counts[identity],
                }
                for identity in identities
            ]
        )
        _logger.info(
            "Erased %s social identities and %s messages at the request of user %s",
            len(identities),
            len(messages),
            self.env.uid,
        )
        messages.unlink()
        identities.unlink()
        conversations.exists().filtered(lambda conversation: not conversation.post_ids).unlink()

    @api.model
    def _erased_external_ids(self, platform, external_ids):
        """The ``external_ids`` of erased accounts, in one query."""
        hashes = {self._hash(external_id): external_id for external_id in external_ids}
        erased = self.sudo().search_fetch(
            [("platform", "=", platform), ("external_id_hash", "in", list(hashes))], ["external_id_hash"]
        )
        return {hashes[record.external_id_hash] for record in erased}
