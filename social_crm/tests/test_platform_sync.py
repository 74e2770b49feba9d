"""X, Mastodon and Bluesky sources pulled end to end through loopback servers
that speak each platform's API over real HTTP: threads, authors and private
messages stored; pulls that are idempotent and resume where they stopped;
replies stored before their parents; rate limits, outages and revoked
credentials stored on the source; X's monthly read budget; Bluesky sessions
renewed and kept."""

import itertools
import json
import time
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged, warmup

from odoo.addons.social_crm_demo.fake_platforms import BlueskyServer, MastodonApi, Reply, XApi
from odoo.addons.social_crm_demo.fake_platforms.x_api import problem

from ..channels.bluesky import LOW_QUOTA
from ..models.platforms import CREDENTIAL_FIELDS
from .common import SocialCrmCase

NOW = datetime(2026, 11, 23, 10, 0)
SOURCE_LOGGER = "odoo.addons.social_crm.models.social_source"
MASTODON_TOKEN = "mastodon-s3cret-token"
TAG_PATH = "/api/v1/timelines/tag/tentworks"
NOTIFICATIONS = "app.bsky.notification.listNotifications"
SEARCH = "app.bsky.feed.searchPosts"
MODELS = ("social.message", "social.conversation", "social.identity")


def fail_request(server, number, reply):
    """Answer the ``number``-th next request ``server`` gets with ``reply``:
    an outage in the middle of a pull."""
    handle, counter = server.handle, itertools.count(1)
    server.handle = lambda request: reply if next(counter) == number else handle(request)


def replied_to(tweet):
    return next((ref["id"] for ref in tweet.get("referenced_tweets", ()) if ref["type"] == "replied_to"), False)


class PlatformSyncCase(SocialCrmCase):
    """Sources created by the administrator (credentials are theirs to set)
    and pulled by a Social CRM manager, the least privileged user who may."""

    def serve(self, server):
        server.start()
        self.addCleanup(server.stop)
        return server

    def make_platform_source(self, platform, mode, api_url, target, **values):
        return self.env["social.source"].create(
            {
                "name": f"{platform} {mode}",
                "platform": platform,
                "mode": mode,
                "target": target,
                "api_url": api_url,
                "local_network": True,
                **values,
            }
        )

    def sync(self, source):
        return source.with_user(self.social_manager).action_sync()

    def sync_failing(self, source):
        """Pull a source expected to fail: the failure is logged as a warning."""
        with self.assertLogs(SOURCE_LOGGER, "WARNING") as logs:
            self.sync(source)
        return "\n".join(logs.output)

    def counts(self):
        return [self.env[model].search_count([]) for model in MODELS]

    def stored(self, source):
        return {message.external_id: message for message in self.messages_of(source)}

    def assert_failed(self, source, code, words, *secrets, retryable=False):
        self.assertRecordValues(source, [{"state": "error", "error_code": code, "error_retryable": retryable}])
        self.assertIn(words, source.last_error)
        for secret in secrets:
            self.assertNotIn(secret, source.last_error)


@tagged("post_install", "-at_install")
class TestXSync(PlatformSyncCase):
    """X API v2 through python-twitter-v2: 60 tweets in 8 threads by 12
    accounts and 12 direct messages, served in pages of 10."""

    def setUp(self):
        super().setUp()
        self.api = self.serve(XApi.generate(posts=60, authors=12, threads=8, dms=12, seed=3, page_cap=10))

    def x_source(self, mode="mentions", target="@acme", kind="user", **values):
        """``kind``: an app-only ``bearer`` token or the ``user`` context of @acme."""
        credentials = {CREDENTIAL_FIELDS["x"][key]: value for key, value in self.api.credentials(kind).items()}
        return self.make_platform_source(
            "x", mode, f"{self.api.url}/2", target, max_items=1000, **credentials, **values
        )

    def mention_ids(self):
        return {tweet["id"] for tweet in self.api.mentions_of(self.api.account)}

    def served(self, path):
        return [request for request in self.api.requests if request.path == path]

    @freeze_time(NOW)
    def test_mentions_are_stored_as_threads_of_their_authors(self):
        source = self.x_source()
        self.assertTrue(self.sync(source))

        api, messages = self.api, self.stored(source)
        self.assertRecordValues(
            source, [{"state": "active", "last_error": False, "reads_this_month": 55, "reads_month": "2026-11"}]
        )
        self.assertLessEqual(self.mention_ids(), set(messages))
        for external_id, message in messages.items():
            tweet = api.tweets[external_id]
            parent = replied_to(tweet)
            self.assertEqual(message.conversation_id.thread_key, tweet["conversation_id"])
            self.assertEqual(message.parent_external_id, parent)
            self.assertEqual(message.parent_id.external_id, parent if parent in messages else False)
            self.assertEqual(message.direction, "outbound" if tweet["author_id"] == api.account else "inbound")
            self.assertEqual(message.author_id.external_id, tweet["author_id"])
        self.assertIn("outbound", {m.direction for m in messages.values()}, "the account's own tweets came too")
        self.assertTrue(
            any(m.parent_id.id > m.id for m in messages.values()),
            "pages come newest first: some replies were stored before their parent, then threaded",
        )
        conversations = self.env["social.conversation"].search([("source_id", "=", source.id)])
        self.assertEqual(set(conversations.mapped("thread_key")), {api.tweets[i]["conversation_id"] for i in messages})
        for conversation in conversations:
            authors = conversation.post_ids.author_id
            self.assertEqual(conversation.kind, "one_to_one_to_many" if len(authors) > 1 else "one_to_many")
            self.assertEqual(conversation.visibility, "public")
        for identity in self.messages_of(source).author_id:
            user = api.users[identity.external_id]
            self.assertRecordValues(
                identity,
                [
                    {
                        "handle": user["username"],
                        "name": user["name"],
                        "profile_url": f"https://x.com/{user['username']}",
                        "follower_count": user["public_metrics"]["followers_count"],
                    }
                ],
            )
        newest = max(self.mention_ids(), key=lambda i: (len(i), i))
        self.assertEqual(source.cursor, {"since_id": newest, "user_id": api.account})

        counts = self.counts()
        api.requests.clear()
        self.sync(source)
        self.assertEqual(self.counts(), counts, "pulling again creates nothing")
        self.assertEqual([r.param("since_id") for r in api.requests], [newest])
        self.assertEqual(source.reads_this_month, 55, "an empty page bills nothing")

    def test_direct_messages_are_private_one_to_one_conversations(self):
        source = self.x_source(mode="dm")  # the target is ignored: the connected account's messages
        self.sync(source)

        messages = self.stored(source)
        self.assertEqual(set(messages), set(self.api.dm_events))
        for external_id, message in messages.items():
            event = self.api.dm_events[external_id]
            direction = "outbound" if event["sender_id"] == self.api.account else "inbound"
            self.assertRecordValues(message, [{"visibility": "private", "direction": direction}])
            self.assertEqual(message.conversation_id.thread_key, event["dm_conversation_id"])
        conversations = self.messages_of(source).conversation_id
        self.assertEqual(set(conversations.mapped("kind")), {"one_to_one"})
        self.assertEqual(set(conversations.mapped("visibility")), {"private"})

        counts = self.counts()
        self.api.requests.clear()
        self.sync(source)
        self.assertEqual(self.counts(), counts)
        self.assertEqual(len(self.api.requests), 1, "the first page reached the messages already stored")

    @freeze_time(NOW)
    def test_an_outage_on_page_two_keeps_page_one_and_its_cursor(self):
        source = self.x_source(target=self.api.account, kind="bearer")  # an id: no lookup before the pages
        fail_request(self.api, 2, Reply(503, "upstream connect error"))
        output = self.sync_failing(source)

        self.assert_failed(source, "unavailable", "HTTP 503", retryable=True)
        self.assertIn("HTTP 503", output)
        page_one = self.api.mentions_of(self.api.account)[:10]
        referenced = {ref["id"] for tweet in page_one for ref in tweet.get("referenced_tweets", ())}
        self.assertEqual(
            set(self.stored(source)),
            {tweet["id"] for tweet in page_one} | referenced,
            "page one and the tweets it references, nothing of page two",
        )
        self.assertEqual(source.reads_this_month, 10, "the stored page was billed and counted")
        self.assertTrue(source.cursor["next_token"])
        self.assertEqual(source.cursor["user_id"], self.api.account)

        token = source.cursor["next_token"]
        self.sync(source)
        requests = self.served(f"/2/users/{self.api.account}/mentions")
        self.assertEqual(requests[2].param("pagination_token"), token, "the next pull resumes at page two")
        self.assertEqual(source.state, "active")
        self.assertLessEqual(self.mention_ids(), set(self.stored(source)))
        self.assertEqual(source.reads_this_month, 55, "no page read twice")

    def test_spent_rate_limit_sets_the_next_pull_without_sleeping(self):
        api = self.serve(XApi.generate(posts=60, authors=12, threads=8, seed=3, page_cap=10, rate_limit=2))
        source = self.make_platform_source(
            "x",
            "mentions",
            f"{api.url}/2",
            api.account,
            interval_minutes=5,
            max_items=1000,
            bearer_token=api.bearer_token,
        )
        with freeze_time(NOW), patch.object(time, "sleep", side_effect=AssertionError("a pull never sleeps")):
            self.sync(source)
        self.assertEqual(len(api.requests), 2, "no call once the window's calls are spent")
        self.assertRecordValues(
            source,
            [
                {
                    "state": "active",
                    "error_code": False,
                    "last_pull_at": NOW,
                    "next_pull_at": NOW + timedelta(seconds=900),
                }
            ],
        )
        self.assertTrue(source.cursor["next_token"], "the next pull goes on with page three")

        with freeze_time(NOW + timedelta(minutes=1)), patch.object(time, "sleep", side_effect=AssertionError):
            output = self.sync_failing(source)
        self.assertIn("HTTP 429", output)
        self.assert_rate_limited(source, until=NOW + timedelta(seconds=900))

    def assert_next_pull_at_the_reset(self, window):
        """A spent limit: the next pull waits for X's reset, ``window``
        seconds away, not for the client's 15-minute fallback."""
        with freeze_time(NOW):
            api = self.serve(
                XApi.generate(posts=60, authors=12, threads=8, seed=3, page_cap=10, rate_limit=2, window=window)
            )
            source = self.make_platform_source(
                "x", "mentions", f"{api.url}/2", api.account, interval_minutes=1, bearer_token=api.bearer_token
            )
            self.sync(source)
        self.assertRecordValues(
            source, [{"state": "active", "error_code": False, "next_pull_at": NOW + timedelta(seconds=window)}]
        )

    def test_a_one_minute_rate_limit_window_sets_the_next_pull_one_minute_on(self):
        self.assert_next_pull_at_the_reset(60)

    def test_a_one_hour_rate_limit_window_sets_the_next_pull_one_hour_on(self):
        self.assert_next_pull_at_the_reset(3600)

    def test_revoked_or_refused_credentials_ask_to_reconnect(self):
        for reply in (None, Reply(403, json.dumps(problem(403, "Forbidden", "Forbidden")))):
            with self.subTest(status=401 if reply is None else 403):
                source = self.x_source()
                self.api.revoked = reply is None
                if reply:
                    self.api.fail_next(reply)
                self.sync_failing(source)
                self.assert_failed(
                    source,
                    "auth",
                    "reconnect the source",
                    self.api.access_token,
                    self.api.access_token_secret,
                    self.api.consumer_secret,
                )
                self.assertFalse(self.messages_of(source))
                self.assertEqual(source.error_count, 1)

    def test_read_budget_counts_reads_and_stops_until_next_month(self):
        source = self.x_source(target=self.api.account, kind="bearer", read_budget=25)
        path = f"/2/users/{self.api.account}/mentions"
        with freeze_time(NOW):
            self.sync(source)
            self.assertEqual([int(r.param("max_results")) for r in self.served(path)], [25, 15, 5])
            self.assertRecordValues(source, [{"reads_this_month": 25, "reads_month": "2026-11", "state": "active"}])
            token = source.cursor["next_token"]

            self.sync(source)
        self.assertEqual(len(self.served(path)), 3, "a spent budget sends no request")
        self.assertRecordValues(
            source,
            [
                {
                    "next_pull_at": datetime(2026, 12, 1),
                    "error_code": "budget_spent",
                    "state": "active",
                    "reads_this_month": 25,
                }
            ],
        )
        self.assertIn("2026-12-01", source.last_error)

        with freeze_time(datetime(2026, 12, 1, 0, 5)):
            self.sync(source)
        self.assertEqual(self.served(path)[3].param("pagination_token"), token, "next month resumes where it stopped")
        self.assertRecordValues(source, [{"reads_this_month": 25, "reads_month": "2026-12", "error_code": False}])

    def test_reads_of_last_month_do_not_count_against_this_one(self):
        source = self.x_source(target=self.api.account, kind="bearer", read_budget=30)
        with freeze_time(datetime(2026, 11, 30, 23, 58)):
            self.sync(source)
            self.sync(source)
        self.assertRecordValues(
            source,
            [
                {
                    "reads_this_month": 30,
                    "reads_month": "2026-11",
                    "error_code": "budget_spent",
                    "next_pull_at": datetime(2026, 12, 1),
                }
            ],
        )
        with freeze_time(datetime(2026, 12, 1, 0, 0, 30)):
            self.sync(source)
        self.assertRecordValues(source, [{"reads_this_month": 25, "reads_month": "2026-12", "error_code": False}])
        self.assertLessEqual(self.mention_ids(), set(self.stored(source)), "the new month read the other 25")

    def test_a_pull_across_midnight_at_the_end_of_a_month_counts_each_read_once(self):
        source = self.x_source(target=self.api.account, kind="bearer", read_budget=1000)
        handle, requests = self.api.handle, itertools.count(1)
        with freeze_time(datetime(2026, 11, 30, 23, 59, 59)) as clock:

            def midnight_before_page_two(request):
                if next(requests) == 2:
                    clock.move_to(datetime(2026, 12, 1, 0, 0, 1))
                return handle(request)

            self.api.handle = midnight_before_page_two
            self.sync(source)
            self.assertEqual(len(self.served(f"/2/users/{self.api.account}/mentions")), 6)
            self.assertRecordValues(source, [{"reads_this_month": 55, "reads_month": "2026-12"}])
            self.sync(source)
        self.assertRecordValues(source, [{"reads_this_month": 55, "reads_month": "2026-12", "state": "active"}])

    def test_a_budget_left_below_one_page_waits_for_next_month(self):
        source = self.x_source(target=self.api.account, kind="bearer", read_budget=23)
        with freeze_time(NOW):
            self.sync(source)
            self.assertEqual(source.reads_this_month, 20, "3 reads left: less than X's smallest page of 5")
            self.api.requests.clear()
            self.sync(source)
        self.assertFalse(self.api.requests)
        self.assertRecordValues(
            source, [{"next_pull_at": datetime(2026, 12, 1), "error_code": "budget_spent", "state": "active"}]
        )


@tagged("post_install", "-at_install")
class TestMastodonSync(PlatformSyncCase):
    """A Mastodon instance whose token belongs to @tentworks."""

    def setUp(self):
        super().setUp()
        self.api = self.serve(MastodonApi(token=MASTODON_TOKEN))
        self.jo = self.api.add_account("jo", "Jo Camper", domain="mastodon.social", followers=321)
        self.al = self.api.add_account("al", "Al Pine", followers=12)

    def key(self, status):
        return f"127.0.0.1:{self.api.port}:{status.id}"

    def mastodon_source(self, mode="hashtag", target="#tentworks", **values):
        return self.make_platform_source("mastodon", mode, self.api.url, target, access_token=MASTODON_TOKEN, **values)

    def test_hashtag_threads_authors_and_kinds(self):
        api, jo, al = self.api, self.jo, self.al
        question = api.post(jo, "Does the Ridge 2 fit two?", tag="tentworks")
        answer = api.post(api.owner, "Yes, with room for bags.", reply_to=question, tag="tentworks")
        thanks = api.post(jo, "Great, ordering one.", reply_to=answer, tag="tentworks")
        review = api.post(al, "Three nights of rain, dry inside.", tag="tentworks")
        alps = api.post(al, "Which tent for the Alps?")  # not tagged: reached through the reply's context
        advice = api.post(jo, "The Ridge 2, without a doubt", reply_to=alps, tag="tentworks")
        source = self.mastodon_source()
        self.sync(source)

        messages = self.stored(source)
        self.assertEqual(set(messages), {self.key(s) for s in (question, answer, thanks, review, alps, advice)})
        q, a, t, r, x, d = (messages[self.key(s)] for s in (question, answer, thanks, review, alps, advice))
        self.assertEqual((a.parent_id, t.parent_id, d.parent_id, q.parent_id), (q, a, x, self.env["social.message"]))
        self.assertEqual(q.conversation_id, a.conversation_id | t.conversation_id)
        self.assertEqual(x.conversation_id, d.conversation_id)
        self.assertRecordValues(
            q.conversation_id | r.conversation_id | x.conversation_id,
            [
                {
                    "thread_key": self.key(question),
                    "kind": "one_to_one_to_many",
                    "post_count": 3,
                    "root_message_id": q.id,
                },
                {"thread_key": self.key(review), "kind": "one_to_many", "post_count": 1, "root_message_id": r.id},
                {"thread_key": self.key(alps), "kind": "one_to_one_to_many", "post_count": 2, "root_message_id": x.id},
            ],
        )
        self.assertEqual([m.direction for m in (q, a, t, r)], ["inbound", "outbound", "inbound", "inbound"])
        self.assertRecordValues(
            q.author_id | r.author_id | a.author_id,
            [
                {
                    "handle": "jo@mastodon.social",
                    "name": "Jo Camper",
                    "follower_count": 321,
                    "external_id": "https://mastodon.social/users/jo",
                },
                {
                    "handle": f"al@127.0.0.1:{api.port}",
                    "name": "Al Pine",
                    "follower_count": 12,
                    "external_id": f"{api.url}/users/al",
                },
                {
                    "handle": f"tentworks@127.0.0.1:{api.port}",
                    "name": "Tentworks Outdoor Gear",
                    "follower_count": 5400,
                    "external_id": f"{api.url}/users/tentworks",
                },
            ],
        )
        self.assertEqual(a.author_id.website, "https://tentworks.example", "a website the instance verified")
        self.assertEqual(source.cursor, {"account_id": api.owner.id, "since_id": advice.id})

        counts = self.counts()
        api.requests.clear()
        self.sync(source)
        self.assertEqual(self.counts(), counts, "pulling again creates nothing")
        self.assertEqual([r.path for r in api.requests], [TAG_PATH], "the account id came from the cursor")
        self.assertEqual(api.requests[0].param("min_id"), advice.id)

        comment = api.post(jo, "Mine too, after a storm", reply_to=review, tag="tentworks")
        self.sync(source)
        self.assertEqual(self.counts(), [counts[0] + 1, *counts[1:]])
        self.assertEqual(self.stored(source)[self.key(comment)].parent_id, r)
        self.assertEqual(r.conversation_id.kind, "one_to_one_to_many", "the kind follows who takes part")

    def test_direct_messages_are_private_one_to_one(self):
        question = self.api.direct(self.jo, "Can I return a tent bought in May?")
        answer = self.api.direct(self.api.owner, "Yes, within a year.", to=self.jo, reply_to=question)
        source = self.mastodon_source(mode="dm", target="@tentworks")
        self.sync(source)

        messages = self.stored(source)
        q, a = messages[self.key(question)], messages[self.key(answer)]
        self.assertRecordValues(
            q | a,
            [
                {"visibility": "private", "direction": "inbound", "parent_id": False},
                {"visibility": "private", "direction": "outbound", "parent_id": q.id},
            ],
        )
        [conversation] = self.api.conversations.values()
        thread = f"127.0.0.1:{self.api.port}:conversation:{conversation.id}"  # a private exchange threads by it
        self.assertRecordValues(
            q.conversation_id,
            [{"thread_key": thread, "kind": "one_to_one", "visibility": "private", "post_count": 2}],
        )
        self.assertEqual(a.conversation_id, q.conversation_id)

    def test_a_reply_stored_before_its_parent_is_threaded_when_the_parent_arrives(self):
        root = self.api.post(self.al, "Which stove for winter?")  # not tagged
        early = self.api.post(self.jo, "The gas one #tentworks", reply_to=root, tag="tentworks")
        source = self.mastodon_source()
        self.api.fail(f"/api/v1/statuses/{early.id}/context", Reply(404, '{"error": "Record not found"}'))
        self.sync(source)
        reply = self.stored(source)[self.key(early)]
        self.assertRecordValues(reply, [{"parent_id": False, "parent_external_id": self.key(root)}])

        later = self.api.post(self.al, "Thanks! #tentworks", reply_to=root, tag="tentworks")
        self.sync(source)
        messages = self.stored(source)
        self.assertEqual(reply.parent_id, messages[self.key(root)], "threaded when the parent arrived")
        self.assertEqual(messages[self.key(later)].parent_id, messages[self.key(root)])
        self.assertEqual(reply.conversation_id, messages[self.key(root)].conversation_id)
        self.assertEqual(reply.conversation_id.root_message_id, messages[self.key(root)])

    def test_429_sets_the_next_pull_from_the_reset_and_stays_active(self):
        with freeze_time(NOW):
            api = self.serve(MastodonApi(token=MASTODON_TOKEN, quota=0, window=120))
            source = self.make_platform_source("mastodon", "hashtag", api.url, "tentworks", access_token=MASTODON_TOKEN)
            output = self.sync_failing(source)
        self.assertIn("HTTP 429", output)
        self.assert_rate_limited(source, until=NOW + timedelta(seconds=120))
        self.assertEqual((source.last_attempt_at, source.last_pull_at), (NOW, False), "a rate limit is no pull")

    def test_a_spent_quota_stops_the_pull_and_waits_for_the_reset(self):
        with freeze_time(NOW):
            api = self.serve(MastodonApi(token=MASTODON_TOKEN, quota=3, window=1800))
            jo = api.add_account("jo")
            for n in range(100):
                api.post(jo, f"Tent test {n}", tag="tentworks")
            source = self.make_platform_source(
                "mastodon", "hashtag", api.url, "tentworks", access_token=MASTODON_TOKEN, max_items=1000
            )
            self.sync(source)
        self.assertEqual(len(api.requests), 3, "credentials and two pages: no request that would be refused")
        self.assertEqual(len(self.messages_of(source)), 80)
        self.assertRecordValues(source, [{"state": "active", "next_pull_at": NOW + timedelta(seconds=1800)}])

    def test_outage_backs_off_then_recovers(self):
        self.api.post(self.jo, "Tent test", tag="tentworks")
        source = self.mastodon_source(interval_minutes=10)
        self.api.fail(
            TAG_PATH,
            Reply(503, "<html>busy</html>"),
            Reply(503, "<html>busy</html>"),
            Reply(503, "<html>busy</html>", {"Retry-After": "90"}),
        )
        for minutes, (count, wait) in enumerate(
            [(1, timedelta(minutes=10)), (2, timedelta(minutes=20)), (3, timedelta(seconds=90))]
        ):
            with freeze_time(NOW + timedelta(minutes=minutes)):
                self.sync_failing(source)
            self.assert_failed(source, "unavailable", "HTTP 503", MASTODON_TOKEN, retryable=True)
            self.assertRecordValues(
                source, [{"error_count": count, "next_pull_at": NOW + timedelta(minutes=minutes) + wait}]
            )
        self.assertFalse(self.messages_of(source))

        with freeze_time(NOW + timedelta(hours=1)):
            self.sync(source)
        self.assertRecordValues(
            source,
            [
                {
                    "state": "active",
                    "error_count": 0,
                    "last_error": False,
                    "next_pull_at": NOW + timedelta(hours=1, minutes=10),
                }
            ],
        )
        self.assertEqual(len(self.messages_of(source)), 1)

    def test_revoked_token_puts_the_source_in_error_asking_to_reconnect(self):
        self.api.post(self.jo, "Tent test", tag="tentworks")
        source = self.mastodon_source(mode="mentions", target="@tentworks")
        self.api.token = "a-new-token"  # the user revoked the app's token
        output = self.sync_failing(source)
        self.assert_failed(
            source, "auth", "(HTTP 401: The access token is invalid); reconnect the source", MASTODON_TOKEN
        )
        self.assertNotIn(MASTODON_TOKEN, output)
        self.assertFalse(source.cursor)

    def test_401_to_a_source_without_credentials_asks_an_administrator_for_them(self):
        closed = Reply(401, json.dumps({"error": "This API requires an authenticated user"}))
        self.api.fail("/api/v1/timelines/tag/tentworks", closed)
        source = self.make_platform_source("mastodon", "hashtag", self.api.url, "#tentworks")
        self.sync_failing(source)
        self.assert_failed(
            source,
            "auth",
            "(HTTP 401: This API requires an authenticated user); "
            "the Mastodon source needs credentials: an administrator must enter them",
        )


@tagged("post_install", "-at_install")
class TestBlueskySync(PlatformSyncCase):
    """A Bluesky PDS where @tentworks.example logs in with an app password:
    Alice answers our post, we answer her, she answers again; a shop with a
    domain handle mentions us."""

    def setUp(self):
        super().setUp()
        server = self.server = self.serve(BlueskyServer())
        self.alice = server.add_account("alice.bsky.social", "Alice Brook", "Weekend hiker.", followers=120)
        self.shop = server.add_account("gearshop.example", "Gear Shop", "Outdoor shop in Annecy.", followers=900)
        self.root = server.add_post(server.me, "Our new Ridge 2P is out!")
        self.question = server.add_post(self.alice, "Does it fit two people and bags?", reply_to=self.root)
        self.answer = server.add_post(server.me, "@alice.bsky.social yes, with room for bags.", reply_to=self.question)
        self.thanks = server.add_post(self.alice, "Great, ordering one.", reply_to=self.answer)
        self.mention = server.add_post(self.shop, "Now stocking @tentworks.example tents")

    def bluesky_source(self, mode="mentions", target="@tentworks.example", password=None, **values):
        return self.make_platform_source(
            "bluesky",
            mode,
            self.server.url,
            target,
            auth_login=self.server.me.handle,
            auth_password=password or self.server.app_password,
            **values,
        )

    def test_mentions_and_replies_become_threads_and_the_session_is_kept(self):
        server = self.server
        source = self.bluesky_source()
        self.sync(source)

        self.assertEqual(len(server.calls("com.atproto.server.createSession")), 1)
        session = source.sudo().read(["session_token", "refresh_token"])[0]
        self.assertIn(session["session_token"], server.tokens)
        self.assertIn(session["refresh_token"], server.tokens)
        messages = self.stored(source)
        posts = (self.root, self.question, self.answer, self.thanks, self.mention)
        self.assertEqual(set(messages), {post.uri for post in posts}, "the like is no mention")
        root, question, answer, thanks, mention = (messages[post.uri] for post in posts)
        self.assertEqual((question.parent_id, answer.parent_id, thanks.parent_id), (root, question, answer))
        self.assertEqual(
            [m.direction for m in (root, question, answer, thanks)], ["outbound", "inbound", "outbound", "inbound"]
        )
        self.assertRecordValues(
            root.conversation_id | mention.conversation_id,
            [
                {
                    "thread_key": self.root.uri,
                    "kind": "one_to_one_to_many",
                    "post_count": 4,
                    "root_message_id": root.id,
                },
                {"thread_key": self.mention.uri, "kind": "one_to_many", "post_count": 1, "root_message_id": mention.id},
            ],
        )
        self.assertRecordValues(
            question.author_id | mention.author_id,
            [
                {
                    "external_id": self.alice.did,
                    "handle": "alice.bsky.social",
                    "name": "Alice Brook",
                    "follower_count": 120,
                    "website": False,
                },
                {
                    "external_id": self.shop.did,
                    "handle": "gearshop.example",
                    "name": "Gear Shop",
                    "follower_count": 900,
                    "website": "https://gearshop.example",
                },
            ],
        )

        counts = self.counts()
        server.requests.clear()
        self.sync(source)
        self.assertEqual(self.counts(), counts, "pulling again creates nothing")
        self.assertFalse(server.calls("com.atproto.server.createSession"), "the stored session is reused")
        self.assertFalse(server.calls("com.atproto.server.refreshSession"))
        self.assertEqual(source.sudo().session_token, session["session_token"])

    def test_what_the_appview_hides_below_likes_or_the_watermark_is_stored_once(self):
        """As the AppView answers: reasons are filtered after fetching, so a
        page of likes comes back empty with a cursor; a post written before
        the last pull but indexed after it sorts below its watermark; quotes
        are conversations about us too. A login typed ``@handle`` works."""
        server = self.server
        source = self.bluesky_source()
        source.sudo().auth_login = f"@{server.me.handle}"
        self.sync(source)
        watermark = datetime.fromisoformat(source.cursor["seen_at"]).replace(tzinfo=timezone.utc)
        older = [server.add_post(self.shop, f"@tentworks.example question {n}") for n in range(2)]
        for n in range(250):
            server.like(self.alice, self.root, at=older[-1].indexed_at + timedelta(milliseconds=10 * (n + 1)))
        late = server.add_post(
            self.shop,
            "@tentworks.example written offline",
            at=watermark - timedelta(minutes=5),
            indexed_at=older[-1].indexed_at + timedelta(seconds=5),
        )
        quote = server.add_post(self.alice, "The tent I told you about", quote=self.root)
        counts = self.counts()
        self.sync(source)

        self.assertEqual(source.state, "active")
        stored = self.stored(source)
        self.assertLessEqual({post.uri for post in (*older, late, quote)}, set(stored))
        self.assertEqual(stored[quote.uri].conversation_id.thread_key, quote.uri)
        self.assertEqual(self.counts()[0], counts[0] + 4, "the new posts only")
        self.assertNotIn("page", source.cursor)
        self.assertEqual(
            [json.loads(call.body)["identifier"] for call in server.calls("com.atproto.server.createSession")],
            [server.me.handle],
        )

        counts = self.counts()
        self.sync(source)
        self.assertEqual(self.counts(), counts, "the hour re-read below the watermark brings nothing twice")

    def test_an_expired_session_is_refreshed_and_the_new_tokens_stored(self):
        server = self.server
        source = self.bluesky_source()
        old = server.issue_session()
        source.write({"session_token": old["access_jwt"], "refresh_token": old["refresh_jwt"]})
        server.expire_tokens()
        server.script(NOTIFICATIONS, None, Reply(502, "<html>Bad Gateway</html>"))
        self.sync_failing(source)

        self.assert_failed(
            source,
            "unavailable",
            "HTTP 502",
            old["access_jwt"],
            old["refresh_jwt"],
            server.app_password,
            retryable=True,
        )
        renewed = source.sudo()
        self.assertEqual(
            [r.headers["authorization"] for r in server.calls("com.atproto.server.refreshSession")],
            [f"Bearer {old['refresh_jwt']}"],
        )
        self.assertNotIn(old["refresh_jwt"], server.tokens, "refresh tokens are single use")
        self.assertIn(renewed.session_token, server.tokens, "renewed tokens are kept even when the pull fails")
        self.assertIn(renewed.refresh_token, server.tokens)
        self.assertNotEqual(renewed.session_token, old["access_jwt"])

        server.requests.clear()
        self.sync(source)
        self.assertEqual(source.state, "active")
        self.assertFalse(server.calls("com.atproto.server.createSession"))
        self.assertFalse(server.calls("com.atproto.server.refreshSession"))
        self.assertIn(self.thanks.uri, self.stored(source))

    def test_a_wrong_app_password_asks_for_a_new_one(self):
        source = self.bluesky_source(password="wrong-pass-word-1234")
        self.sync_failing(source)
        self.assert_failed(source, "auth", "create a new app password and reconnect the source", "wrong-pass-word-1234")
        self.assertFalse(source.sudo().session_token)

    def test_a_reply_stored_before_its_parent_is_threaded_when_the_parent_arrives(self):
        server = self.server
        server.delete(self.answer)  # out of reach on the first pull
        source = self.bluesky_source()
        self.sync(source)
        thanks = self.stored(source)[self.thanks.uri]
        self.assertRecordValues(thanks, [{"parent_id": False, "parent_external_id": self.answer.uri}])

        server.posts[self.answer.uri] = self.answer  # reachable again
        server.add_post(self.alice, "Ordered!", reply_to=self.thanks)
        self.sync(source)
        answer = self.stored(source)[self.answer.uri]
        self.assertEqual(thanks.parent_id, answer)
        self.assertEqual(answer.conversation_id, thanks.conversation_id)

    def test_an_outage_on_page_two_keeps_page_one_and_its_cursor(self):
        walker = self.server.add_account("walker.bsky.social", "Walker")
        posted = [self.server.add_post(walker, f"bivouac test #{n}") for n in range(230)]
        source = self.bluesky_source(mode="search", target="bivouac", max_items=500)
        self.server.script(SEARCH, None, Reply(502, "<html>Bad Gateway</html>"))
        self.sync_failing(source)

        self.assert_failed(source, "unavailable", "HTTP 502", retryable=True)
        self.assertEqual(set(self.stored(source)), {post.uri for post in posted[-100:]}, "the newest page")
        self.assertEqual(source.cursor["page"], "100", "the cursor of the page stored")

        self.sync(source)
        self.assertEqual([call.param("cursor") for call in self.server.calls(SEARCH)], [None, "100", "100", "200"])
        self.assertEqual(set(self.stored(source)), {post.uri for post in posted})
        self.assertEqual(source.state, "active")

        self.server.requests.clear()
        self.sync(source)
        self.assertTrue(self.server.calls(SEARCH)[0].param("since"), "the next pull searches since the newest")

    def limited_server(self, window):
        """A PDS whose quota resets every ``window`` seconds, started at NOW."""
        with freeze_time(NOW):
            server = self.serve(BlueskyServer(window=window))
        walker = server.add_account("walker.bsky.social", "Walker")
        for number in range(230):
            server.add_post(walker, f"bivouac test #{number}")
        return server

    def pull_limited(self, server, quota, sync):
        server.quota = quota
        source = self.make_platform_source(
            "bluesky",
            "search",
            server.url,
            "bivouac",
            interval_minutes=1,
            max_items=500,
            auth_login=server.me.handle,
            auth_password=server.app_password,
        )
        with freeze_time(NOW):
            output = sync(source)
        return source, output

    def test_a_low_quota_sets_the_next_pull_at_the_reset(self):
        for window in (60, 3600):
            with self.subTest(window=window):
                # after the login and a page, too few calls are left for another
                source, _output = self.pull_limited(self.limited_server(window), LOW_QUOTA + 3, self.sync)
                self.assertRecordValues(
                    source, [{"state": "active", "error_code": False, "next_pull_at": NOW + timedelta(seconds=window)}]
                )
                self.assertEqual(len(self.stored(source)), 100, "one page, then the wait")
                self.messages_of(source).conversation_id.unlink()

    def test_429_sets_the_next_pull_from_the_reset_and_stays_active(self):
        for window in (60, 3600):
            with self.subTest(window=window):
                source, output = self.pull_limited(self.limited_server(window), 1, self.sync_failing)
                self.assertIn("HTTP 429", output)
                self.assert_rate_limited(source, until=NOW + timedelta(seconds=window))


@tagged("post_install", "-at_install", "is_query_count")
class TestPlatformSyncQueryCount(PlatformSyncCase):
    """A pull's queries grow with the pages it reads, never with the posts a
    page holds."""

    def count_queries(self, api, platform, mode, target, **values):
        """Queries of a first pull of ``api``, and the pages it read."""
        self.serve(api)
        source = self.make_platform_source(
            platform, mode, api.url + ("/2" if platform == "x" else ""), target, max_items=1000, **values
        )
        queries = self.sync_queries(source)
        messages = self.messages_of(source)
        self.assertEqual(source.state, "active", source.last_error)
        # generated datasets reuse their ids: forget this one before the next
        authors = messages.author_id
        messages.conversation_id.unlink()
        authors.unlink()
        pages = [request for request in api.requests if "/search/" in request.path or "/timelines/" in request.path]
        return queries, len(pages), len(messages)

    def count_x_search(self, posts, page_cap):
        api = XApi.generate(posts=posts, authors=posts // 5, threads=posts // 6, page_cap=page_cap)
        return self.count_queries(api, "x", "search", "acme", bearer_token=api.bearer_token)

    def count_mastodon_hashtag(self, posts):
        api = MastodonApi.generate(posts=posts, authors=posts // 5, threads=posts // 6)
        return self.count_queries(api, "mastodon", "hashtag", "#tentworks")

    def test_queries_do_not_grow_with_the_page_size(self):
        self.count_x_search(50, 10)  # warm the registry's caches
        small, pages, posts = self.count_x_search(50, 10)
        self.assertEqual((pages, posts), (5, 50))
        large, pages, posts = self.count_x_search(500, 100)
        self.assertEqual((pages, posts), (5, 500))
        # Odoo inserts and updates at most 100 rows per query: each further
        # 100 posts may cost one INSERT and one UPDATE of the few tables a
        # store writes, never a query per post (that would be 450 more)
        self.assertLessEqual(
            large - small, 10 * 5, f"5 pages of 10 posts: {small} queries; 5 pages of 100 posts: {large} queries"
        )

    def test_a_page_costs_the_same_queries_however_many_pages_a_pull_reads(self):
        self.count_mastodon_hashtag(40)  # warm the registry's caches
        small, small_pages, posts = self.count_mastodon_hashtag(50)
        self.assertEqual(posts, 50)
        large, large_pages, posts = self.count_mastodon_hashtag(500)
        self.assertEqual((posts, large_pages), (500, 14), "pages of 40 posts, and the empty one after the last")
        self.assertLessEqual(
            large / large_pages,
            small / small_pages + 2,
            f"50 posts: {small} queries in {small_pages} pages; " f"500 posts: {large} queries in {large_pages} pages",
        )

    def assert_pull_queries(self, api, platform, mode, target, queries, **values):
        """A first pull of ``api`` costs exactly ``queries`` queries."""
        self.serve(api)
        source = self.make_platform_source(
            platform, mode, api.url + ("/2" if platform == "x" else ""), target, max_items=1000, **values
        )
        with self.assertQueryCount(queries):
            source._sync()
        self.assertEqual(source.state, "active", source.last_error)

    @warmup
    def test_query_count_of_5_x_pages_of_10_posts(self):
        api = XApi.generate(posts=50, authors=10, threads=8, page_cap=10)
        self.assert_pull_queries(api, "x", "search", "acme", 30, bearer_token=api.bearer_token)

    @warmup
    def test_query_count_of_5_x_pages_of_100_posts(self):
        api = XApi.generate(posts=500, authors=100, threads=83, page_cap=100)
        self.assert_pull_queries(api, "x", "search", "acme", 38, bearer_token=api.bearer_token)

    @warmup
    def test_query_count_of_2_mastodon_pages_of_40_posts(self):
        api = MastodonApi.generate(posts=50, authors=10, threads=8)
        self.assert_pull_queries(api, "mastodon", "hashtag", "#tentworks", 31)

    @warmup
    def test_query_count_of_13_mastodon_pages_of_40_posts(self):
        api = MastodonApi.generate(posts=500, authors=100, threads=83)
        self.assert_pull_queries(api, "mastodon", "hashtag", "#tentworks", 41)
