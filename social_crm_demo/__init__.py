"""Nothing here runs inside Odoo but the hook: ``fake_platforms`` is imported
only by whoever starts the servers (``make demo``, ``make bench``) or tests
against them, never at module load."""


def pre_init_hook(env):
    """The demo sources were social_crm's demo data before this addon held
    them: a database that has them takes them over instead of getting a
    second set."""
    env.cr.execute(
        """
        UPDATE ir_model_data
           SET module = 'social_crm_demo'
         WHERE module = 'social_crm' AND model = 'social.source' AND name LIKE 'social_source_demo_%'
        """
    )
