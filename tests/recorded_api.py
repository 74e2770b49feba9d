"""Answers recorded in the shapes the real APIs document, served from
127.0.0.1 in the order a test queues them: the clients meet what X, Mastodon
and Bluesky send, not what the project's own fake servers make up."""

import json
import pathlib

from fake_platforms.server import LoopbackServer, Reply

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "api"


def recorded(name):
    """The :class:`Reply` of the answer recorded in ``fixtures/api/<name>.json``."""
    record = json.loads((FIXTURES / f"{name}.json").read_text())
    return Reply(record["status"], json.dumps(record["body"]), record["headers"])


class RecordedApi(LoopbackServer):
    """Serves the answers queued for each path, once each, in order; a
    request nobody queued an answer for gets a 404 the test will notice."""

    def __init__(self):
        super().__init__()
        self.queued = {}

    def answer(self, path, *names):
        self.queued.setdefault(path, []).extend(recorded(name) for name in names)

    def handle(self, request):
        if not self.queued.get(request.path):
            return Reply(404, json.dumps({"error": f"nothing recorded for {request.path}"}))
        return self.queued[request.path].pop(0)

    def asked(self, path):
        """The query of each request for ``path``, one value per name."""
        return [
            {name: values[0] for name, values in request.query.items()}
            for request in self.requests
            if request.path == path
        ]
