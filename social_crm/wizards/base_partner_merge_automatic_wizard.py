from odoo import api, models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_values(self, src_partners, dst_partner):
        """Keep every recorded social account: the merged partner's list is
        the union of all lists, where Odoo would keep the destination's only."""
        handles = [
            line.strip()
            for partner in dst_partner | src_partners
            for line in (partner.social_handles or "").splitlines()
            if line.strip()
        ]
        result = super()._update_values(src_partners, dst_partner)
        if handles:
            dst_partner.social_handles = "\n".join(dict.fromkeys(handles))
        return result
