"""Fixtures shared by the channel tests, loaded with ``pytest_plugins``."""

import pytest

from loopback.feed_site import FeedSite


@pytest.fixture
def site():
    """A blog host on 127.0.0.1; ``site.script(path, Reply)`` fixes any answer."""
    with FeedSite() as server:
        yield server


@pytest.fixture
def other_site():
    """A second host (another port, so another origin) for redirects."""
    with FeedSite() as server:
        yield server
