from odoo import api, models
from odoo.exceptions import AccessError


class SocialAccessMixin(models.AbstractModel):
    """What a user writes must not reach further than what the user may
    read. Record rules only filter the records a user reads and edits, not
    the values written: a link to a case of another team or a partner of
    another company (whose names then show through the link, read as
    superuser), or a record moved to another company or shared with all of
    them, would go through. The sync and the cron run as superuser and are
    not concerned."""

    _name = "social.access.mixin"
    _description = "Social CRM: links and companies a user may set"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            defaults = {
                key.removeprefix("default_"): value
                for key, value in self.env.context.items()
                if key.startswith("default_")
            }
            for vals in vals_list:
                self._check_user_values({**defaults, **vals}, creating=True)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._check_user_values(vals)
        return super().write(vals)

    @api.model
    def _check_user_values(self, vals, creating=False):
        """Links only to records the user may read; a company only among the
        user's own; and only a manager may make a record shared by every
        company (no company), though a new record may start shared, as
        before."""
        for name, value in vals.items():
            field = self._fields.get(name)
            if field is None or field.type != "many2one":
                continue
            ids = value.ids if isinstance(value, models.BaseModel) else [value] if value else []
            if field.comodel_name == "res.company":
                if ids or not creating:
                    self._check_company_allowed(ids)
            elif ids:
                self.env[field.comodel_name].browse(ids).check_access("read")

    @api.model
    def _check_company_allowed(self, company_ids):
        if not company_ids:
            if not self.env.user.has_group("social_crm.group_social_crm_manager"):
                raise AccessError(
                    self.env._(
                        "Only a Social CRM manager may share %(records)s with every company.",
                        records=self._description,
                    )
                )
        elif not set(company_ids) <= set(self.env.user.company_ids.ids):
            raise AccessError(
                self.env._("You may not move %(records)s to a company you do not work in.", records=self._description)
            )
