{
    "name": "Social CRM: demo platforms",
    "version": "18.0.1.0.0",
    "summary": "Fake X, Mastodon, Bluesky and feed servers on 127.0.0.1, and demo sources that pull from them",
    "category": "Hidden",
    "author": "social_crm contributors",
    "website": "https://github.com/social-crm/social_crm",
    "license": "LGPL-3",
    "depends": ["social_crm"],
    "demo": [
        "demo/social_source_demo.xml",
    ],
    "pre_init_hook": "pre_init_hook",
}
