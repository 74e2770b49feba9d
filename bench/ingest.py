"""Ingestion benchmark: posts from the local X and Mastodon servers through
the whole pipeline (HTTP, client, batched ORM sync) into a fresh database,
against a bare ``create(vals_list)`` of the same number of messages measured
in the same run.

Usage (``make bench`` does this): ``python bench/ingest.py -c <odoo.conf> -d <fresh db> [odoo options]``
"""

import argparse
import multiprocessing
import resource
import signal
import socket
import statistics
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

#: what the pipeline stores besides the post's content: identity, links to
#: other records, bookkeeping; the baseline sets its own
NOT_CONTENT = {"external_id", "platform", "source_id", "company_id", "parent_id", "parent_external_id"}


def content_fields(env):
    """Every column a sync fills from a post's content (text, dates, counts,
    media, link card, labels, fingerprint...): the baseline copies them all,
    so that both sides write the same rows whatever fields posts gain."""
    return [
        name
        for name, field in env["social.message"]._fields.items()
        if field.store and field.column_type and not field.compute and not field.relational
        and not field.automatic and name not in NOT_CONTENT
    ]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Meter:
    """Wall time and SQL queries of a block, with everything flushed."""

    def __init__(self, env):
        self.env = env

    def __enter__(self):
        self.env.flush_all()
        self.queries = self.env.cr.sql_log_count
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.env.flush_all()
        self.seconds = time.perf_counter() - self.started
        self.queries = self.env.cr.sql_log_count - self.queries


def serve_apart(factory):
    """Start ``factory(port)``'s server in a process of its own, as a real
    platform runs on its own machine: its work is not counted against the
    pipeline. Returns the server's URL and the process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("fork")
    ready = context.Event()

    def serve():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not Odoo's handler, inherited by the fork
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        factory(port).start()
        ready.set()
        signal.pause()

    process = context.Process(target=serve, daemon=True)
    process.start()
    if not ready.wait(120):
        sys.exit("bench: a loopback server did not start")
    return f"http://127.0.0.1:{port}", process


def add_routing(env):
    """A realistic routing set-up, so that the figure includes routing: a
    support team that assigns by load, with an SLA, and a few rules (cases
    for complaints, a team for other languages, a tag for the rest)."""
    team = env["crm.team"].create({"name": "bench support", "social_assignment": "least_loaded"})
    env["crm.team.member"].create(
        [{"crm_team_id": team.id, "user_id": env.ref("base.user_admin").id, "social_case_capacity": 0}]
    )
    env["social.sla.policy"].create({"name": "bench", "team_id": team.id, "reply_hours": 4, "resolve_hours": 24})
    tag = env["crm.tag"].create({"name": "bench social"})
    env["social.routing.rule"].create(
        [
            {
                "name": "Complaints",
                "sequence": 1,
                "keywords": "battery died, still says, repair service",
                "team_id": team.id,
                "priority": "2",
                "create_case": True,
            },
            {"name": "Other languages", "sequence": 2, "languages": "fr, de, es", "team_id": team.id},
            {"name": "Known customers", "sequence": 3, "customer_link": "linked", "tag_ids": [tag.id]},
            {"name": "Everything else", "sequence": 4, "tag_ids": [tag.id]},
        ]
    )


def run_pipeline(env, posts, authors, threads, seed):
    """Pull ``posts`` (half from an X search, half from a Mastodon hashtag)
    through ``social.source._sync``; returns (the stored posts' content, meter)."""
    from odoo.addons.social_crm_demo.fake_platforms import MastodonApi, XApi  # noqa: PLC0415 needs the addon loaded
    from odoo.addons.social_crm.models.platforms import CREDENTIAL_FIELDS  # noqa: PLC0415

    x_url, x_process = serve_apart(
        lambda port: XApi.generate(posts=posts // 2, authors=authors // 2, threads=threads // 2, seed=seed, port=port)
    )
    mastodon_url, mastodon_process = serve_apart(
        lambda port: MastodonApi.generate(
            posts=posts - posts // 2,
            authors=authors - authors // 2,
            threads=threads - threads // 2,
            seed=seed,
            port=port,
        )
    )
    add_routing(env)
    try:
        x_credentials = {CREDENTIAL_FIELDS["x"][key]: value for key, value in XApi().credentials("bearer").items()}
        sources = env["social.source"].create(
            [
                {
                    "name": f"bench X {seed}",
                    "platform": "x",
                    "mode": "search",
                    "target": "acme",
                    "api_url": f"{x_url}/2",
                    "local_network": True,
                    "max_items": posts,
                    **x_credentials,
                },
                {
                    "name": f"bench Mastodon {seed}",
                    "platform": "mastodon",
                    "mode": "hashtag",
                    "target": "tentworks",
                    "api_url": mastodon_url,
                    "local_network": True,
                    "max_items": posts,
                    "access_token": MastodonApi().token,
                },
            ]
        )
        with Meter(env) as meter:
            for source in sources:
                if not source._sync():
                    sys.exit(f"bench: {source.name} failed: {source.last_error}")
        stored = env["social.message"].search_read([("source_id", "in", sources.ids)], content_fields(env))
        meter.routed = env["social.conversation"].search_count([("routing_rule_id", "!=", False)])
        meter.cases = env["social.case"].search_count([])
        return stored, meter
    finally:
        x_process.terminate()
        mastodon_process.terminate()


def run_bare_create(env, rows):
    """The baseline: the same posts (same content, same dates) in one
    ``create(vals_list)``, on conversations and identities made beforehand
    (not timed)."""
    identities = env["social.identity"].create(
        [{"platform": "feed", "external_id": f"bench-author-{n}", "handle": f"author{n}"} for n in range(1000)]
    )
    conversations = (
        env["social.conversation"]
        .with_context(tracking_disable=True)
        .create([{"platform": "feed", "thread_key": f"bench-thread-{n}"} for n in range(800)])
    )
    values = [
        {
            **{name: value for name, value in row.items() if name != "id"},
            "platform": "feed",
            "external_id": f"bench-post-{n}",
            "conversation_id": conversations[n % 800].id,
            "author_id": identities[n % 1000].id,
        }
        for n, row in enumerate(rows)
    ]
    with Meter(env) as meter:
        env["social.message"].create(values)
    return meter


def rolled_back(registry, measure):
    """``measure(env)`` in a transaction of its own that is rolled back, then
    the tables vacuumed: every run starts from the same empty tables, not
    from the dead rows of the runs before it (which a real database's
    autovacuum clears, and which slow every later run's index lookups).
    No ANALYZE: statistics of empty tables would plan the run's lookups as
    on empty tables; the fresh database's own statistics stay as they are."""
    with registry.cursor() as cr:
        try:
            return measure(api.Environment(cr, SUPERUSER_ID, {}))
        finally:
            cr.rollback()
            cr._cnx.autocommit = True  # VACUUM runs outside a transaction
            cr.execute("VACUUM")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5, help="runs of each side, alternated")
    args, odoo_args = parser.parse_known_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, *odoo_args])
    registry = Registry(args.database)
    small, small_meter = rolled_back(registry, lambda env: run_pipeline(env, args.posts // 5, 200, 160, seed=2))
    small = len(small)
    pipelines, baselines = [], []
    for _run in range(args.runs):
        # alternate the two sides so that a noisy moment of the machine hits both
        rows, meter = rolled_back(registry, lambda env: run_pipeline(env, args.posts, 1000, 800, seed=1))
        pipelines.append(meter)
        baselines.append(rolled_back(registry, lambda env, rows=rows: run_bare_create(env, rows)))
    stored = len(rows)
    pipeline = min(pipelines, key=lambda meter: meter.seconds)
    baseline = min(baselines, key=lambda meter: meter.seconds)
    pipeline_rate, bare_rate = stored / pipeline.seconds, stored / baseline.seconds
    # each pipeline run against the bare create run right after it, on the
    # same moment of the machine; the median is not moved by one lucky run
    ratios = [bare.seconds / run.seconds for run, bare in zip(pipelines, baselines)]
    print(f"posts stored through the pipeline: {stored}; fastest of {args.runs} runs of each side:")
    print(f"pipeline:    {pipeline_rate:8.0f} posts/s  ({pipeline.seconds:.2f} s, {pipeline.queries} queries)")
    print(f"bare create: {bare_rate:8.0f} posts/s  ({baseline.seconds:.2f} s, {baseline.queries} queries)")
    print(
        f"ratio pipeline / bare create: {statistics.median(ratios):.2f} (target >= 0.50), median of the runs "
        f"{', '.join(f'{ratio:.2f}' for ratio in ratios)}; of the fastest runs: {pipeline_rate / bare_rate:.2f}"
    )
    print(
        f"SQL queries per 100 posts: {100 * small_meter.queries / small:.1f} at {small} posts, "
        f"{100 * pipeline.queries / stored:.1f} at {stored} posts"
    )
    print(f"routing: {pipeline.routed} conversations routed, {pipeline.cases} cases opened in each run")
    print(f"peak memory (RSS): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
