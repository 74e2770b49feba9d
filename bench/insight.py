"""Insight benchmark: recompute the sentiment of N messages and the community
roles of their authors and contacts with the scheduled methods, batch by
batch with a commit each, as the cron runs them. Each size runs in a process
of its own, so that its peak memory (RSS) is that of the run alone; the
peak is reset (``/proc/self/clear_refs``) once Odoo and the language model
are loaded and the data written, so only the recompute is measured.

Usage (``make bench`` does this): ``python bench/insight.py -c <odoo.conf> -d <db> [--sizes 10000,50000]``
"""

import argparse
import json
import subprocess
import sys
import time
from contextlib import closing

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import SQL

#: what the authors say: English of every mood, other languages, too short to tell
TEXTS = [
    ("The tent leaked all night, worst purchase ever. Terrible.", "en"),
    ("Love this stove, it works perfectly and boils water fast. Thank you!", None),
    ("The pegs arrived on Tuesday with the groundsheet.", None),
    ("Support never answered, I am really disappointed and angry.", None),
    ("Try the spare pole in the side pocket, it fixed mine.", "en"),
    ("Great customer service, they replaced the zipper for free!", "en"),
    ("Cette tente est vraiment nulle, l'eau est entrée toute la nuit.", None),
    ("Das Zelt ist wirklich schlecht, es hat die ganze Nacht geregnet.", "de"),
    ("このテントは最悪です。一晩中雨漏りしました。", None),
    ("lol", None),
]


def rss_kb(key):
    """``VmRSS`` or ``VmHWM`` (peak) of this process, in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def seed(cr, size):
    """``size`` inbound messages waiting for scoring, by ``size // 10``
    authors (one in five linked to a contact of a company with won
    revenue), in threads of 20 where every other post answers the one
    before. Written in SQL: only the recompute is measured."""
    authors, threads = size // 10, size // 20
    cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
    company_id = cr.fetchone()[0]
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, active, is_company, type, create_date, write_date)
        SELECT 'Bench company ' || n, 'Bench company ' || n, true, true, 'contact', now(), now()
          FROM generate_series(1, %(companies)s) n;
        UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'Bench company %%';
        INSERT INTO res_partner (name, complete_name, active, parent_id, commercial_partner_id, type,
                                 create_date, write_date)
        SELECT 'Bench contact ' || n, 'Bench contact ' || n, true, c.id, c.id, 'contact', now(), now()
          FROM generate_series(1, %(contacts)s) n
          JOIN res_partner c ON c.name = 'Bench company ' || (1 + n %% %(companies)s);
        INSERT INTO crm_lead (name, type, partner_id, expected_revenue, prorated_revenue, probability, active,
                              stage_id, company_id, user_id, create_date, write_date, priority)
        SELECT 'Bench won deal', 'opportunity', c.id, 1000 * n, 1000 * n, 100, true,
               (SELECT id FROM crm_stage WHERE is_won ORDER BY sequence LIMIT 1), %(company)s, NULL, now(), now(), '0'
          FROM res_partner c, generate_series(1, 3) n WHERE c.name LIKE 'Bench company %%';
        INSERT INTO social_identity (platform, external_id, handle, follower_count, partner_id, message_count,
                                     create_date, write_date)
        SELECT 'mastodon', 'bench-' || n, '@bench' || n, (n * 37) %% 3000,
               CASE WHEN n %% 5 = 0 THEN (SELECT id FROM res_partner WHERE name = 'Bench contact ' || (n / 5)) END,
               10, now(), now()
          FROM generate_series(1, %(authors)s) n;
        INSERT INTO social_conversation (platform, thread_key, company_id, state, visibility, kind, post_count,
                                         participant_count, create_date, write_date)
        SELECT 'mastodon', 'bench-' || n, %(company)s, 'new', 'public', 'one_to_one_to_many', 20, 10, now(), now()
          FROM generate_series(1, %(threads)s) n;
        """,
        {"companies": max(authors // 50, 1), "contacts": authors // 5, "company": company_id, "authors": authors,
         "threads": threads},
    )
    cr.execute(
        """
        INSERT INTO social_message (platform, external_id, conversation_id, author_id, partner_id, company_id,
                                    body, body_text, language, posted_at, visibility, direction, like_count,
                                    repost_count, reply_count, sentiment_state, create_date, write_date)
        SELECT 'mastodon', 'bench-' || n, c.id, i.id, i.partner_id, %(company)s,
               '<p>' || t.text || '</p>', t.text, t.lang, now() - (n %% 80) * interval '1 day',
               'public', 'inbound', n %% 7, n %% 3, 0, 'pending', now(), now()
          FROM generate_series(0, %(size)s - 1) n
          JOIN social_conversation c ON c.thread_key = 'bench-' || (1 + n / 20)
          JOIN social_identity i ON i.external_id = 'bench-' || (1 + (n * 7919) %% %(authors)s)
          JOIN (SELECT * FROM unnest(%(texts)s::text[], %(langs)s::text[]) WITH ORDINALITY AS x(text, lang, k)) t
            ON t.k = 1 + (n * 31) %% %(kinds)s;
        UPDATE social_message m SET parent_id = p.id
          FROM social_message p
         WHERE m.external_id LIKE 'bench-%%' AND p.external_id = 'bench-' || (substr(m.external_id, 7)::int - 1)
           AND substr(m.external_id, 7)::int %% 2 = 1;
        """,
        {"company": company_id, "size": size, "authors": authors, "texts": [t for t, _l in TEXTS],
         "langs": [lang for _t, lang in TEXTS], "kinds": len(TEXTS)},
    )


def measure(database, size):
    """One size, in this process: seed, reset the peak, recompute, report."""
    registry = Registry(database)
    with registry.cursor() as cr:
        seed(cr, size)
        cr.commit()
        env = api.Environment(cr, SUPERUSER_ID, {})
        Message, Identity, Partner = env["social.message"], env["social.identity"], env["res.partner"]
        # the language model and lexicon load once per process (about 2 s):
        # loaded before the peak is reset, so that the peak is the batches'
        from odoo.addons.social_crm import insight  # noqa: PLC0415  importable once the addons path is set

        insight.analyze("The language model loads once.")
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
                refs.write("5")  # resets VmHWM, the peak RSS, to the current RSS
        except OSError:
            sys.exit("bench: cannot reset the peak RSS (/proc/self/clear_refs)")
        before = rss_kb("VmRSS")
        started = time.perf_counter()
        while Message._cron_score_sentiment(commit=True):
            pass
        scored = time.perf_counter()
        stale_before = odoo.fields.Datetime.now()
        roles = 0
        for model in (Identity, Partner):
            while done := model._cron_compute_social_roles(stale_before=stale_before, commit=True):
                roles += done
        finished = time.perf_counter()
        peak = rss_kb("VmHWM")
        env.cr.execute("SELECT sentiment_state, count(*) FROM social_message GROUP BY 1")
        states = dict(env.cr.fetchall())
        env.cr.execute("SELECT count(DISTINCT social_identity_id) FROM social_identity_social_role_rel")
        holders = env.cr.fetchone()[0]
        cr.rollback()
    print(
        json.dumps(
            {
                "size": size,
                "score_seconds": scored - started,
                "roles_seconds": finished - scored,
                "roles": roles,
                "rss_before_mb": before / 1024,
                "peak_mb": peak / 1024,
                "states": states,
                "holders": holders,
            }
        )
    )


def database_admin(query):
    with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True  # noqa: SLF001  CREATE/DROP DATABASE run outside a transaction
        cr.execute(query)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args, odoo_args = parser.parse_known_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, *odoo_args])
    if args.one:
        measure(args.database, args.one)
        return
    results = []
    for size in (int(size) for size in args.sizes.split(",")):
        # a fresh database copy per size: the sizes do not see each other's data
        copy = f"{args.database}_insight"
        database_admin(SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(copy)))
        database_admin(SQL("CREATE DATABASE %s TEMPLATE %s", SQL.identifier(copy), SQL.identifier(args.database)))
        command = [sys.executable, __file__, "-c", args.config, "-d", copy, "--one", str(size), *odoo_args]
        results.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
        database_admin(SQL("DROP DATABASE %s WITH (FORCE)", SQL.identifier(copy)))
    print("recompute of sentiment and roles, one process per size, batches committed as the cron does:")
    print(f"{'messages':>9} {'scoring':>13} {'roles':>18} {'overall':>13} {'peak RSS':>9} {'RSS before':>11}")
    for r in results:
        total = r["score_seconds"] + r["roles_seconds"]
        print(
            f"{r['size']:>9} {r['size'] / r['score_seconds']:>7.0f} msg/s "
            f"{r['roles'] / r['roles_seconds']:>6.0f} records/s "
            f"{r['size'] / total:>7.0f} msg/s {r['peak_mb']:>6.0f} MB {r['rss_before_mb']:>8.0f} MB"
        )
    print(
        "peak RSS of the recompute above the loaded process: "
        + ", ".join(f"{r['peak_mb'] - r['rss_before_mb']:.0f} MB at {r['size']} messages" for r in results)
    )
    last = results[-1]
    print(f"at {last['size']} messages: {last['states']}, {last['holders']} identities hold a role")


if __name__ == "__main__":
    main()
