"""Pages fetched ahead of the store keep their order, their errors and
their end: what the sync stores is exactly what the client made."""

import threading
import time

import pytest

from channels import UnavailableError, prefetched


def pages_then(error=None, count=5, log=None):
    for n in range(count):
        if log is not None:
            log.append(n)
        yield n
    if error:
        raise error


def test_pages_come_in_order_and_the_thread_ends():
    assert list(prefetched(pages_then(count=20))) == list(range(20))
    assert not [t for t in threading.enumerate() if t.name == "social_crm-prefetch"]


def test_an_error_comes_after_the_pages_made_before_it():
    received = []
    with pytest.raises(UnavailableError, match="HTTP 503"):
        for page in prefetched(pages_then(UnavailableError("feed is failing (HTTP 503)"), count=3)):
            received.append(page)
    assert received == [0, 1, 2]


def test_a_consumer_that_stops_early_stops_the_fetching():
    made = []
    pages = prefetched(pages_then(count=1000, log=made), ahead=2)
    assert next(pages) == 0
    pages.close()
    assert len(made) <= 5, "the worker fetched no further than its queue allows"
    assert not [t for t in threading.enumerate() if t.name == "social_crm-prefetch"]


def test_pages_are_fetched_ahead_by_their_weight():
    """The sync weighs pages by their posts: the worker fetches up to a
    batch of posts ahead, however the platform cuts them into pages."""
    made = []
    pages = prefetched(pages_then(count=1000, log=made), ahead=10, weight=lambda page: 3)
    assert next(pages) == 0
    deadline = time.monotonic() + 5
    while len(made) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    # page 0 is taken, pages 1 to 4 wait (4 pages of 3 weigh 12 >= 10), the
    # worker holds page 5 until there is room: no further
    assert len(made) == 6
    pages.close()
    assert not [t for t in threading.enumerate() if t.name == "social_crm-prefetch"]
