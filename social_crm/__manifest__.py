{
    "name": "Social CRM",
    "version": "18.0.1.0.0",
    "summary": "Bring public conversations from X, Mastodon, Bluesky and feeds into the CRM",
    "category": "Sales/CRM",
    "author": "social_crm contributors",
    "website": "https://github.com/social-crm/social_crm",
    "license": "LGPL-3",
    "depends": ["mail", "crm"],
    "external_dependencies": {
        "python": ["feedparser", "lxml", "publicsuffixlist", "regex", "requests", "python-twitter-v2"]
    },
    "data": [
        "security/social_crm_groups.xml",
        "security/ir.model.access.csv",
        "security/social_crm_security.xml",
        "data/ir_sequence_data.xml",
        "data/social_case_stage_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_alias_data.xml",
        "views/social_source_views.xml",
        "views/social_identity_views.xml",
        "views/social_identity_suggestion_views.xml",
        "views/social_message_views.xml",
        "views/social_conversation_views.xml",
        "views/social_case_stage_views.xml",
        "views/social_case_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/social_reply_wizard_views.xml",
        "views/social_crm_menus.xml",
    ],
    "demo": [
        "demo/social_identity_demo.xml",
        "demo/social_conversation_demo.xml",
        "demo/social_case_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "social_crm/static/tests/tours/*.js",
        ],
    },
    "application": True,
}
