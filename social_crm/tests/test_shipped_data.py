from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestShippedData(TransactionCase):
    def test_the_addon_ships_no_source(self):
        """Sources pointing at the fake platform servers on 127.0.0.1 are the
        demo data of social_crm_demo: social_crm's own data and demo data
        create none, so a database without `make demo`'s servers has no
        source retrying a dead URL."""
        shipped = self.env["ir.model.data"].search([("module", "=", "social_crm"), ("model", "=", "social.source")])
        self.assertFalse(shipped)
