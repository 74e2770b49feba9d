"""Fetch the next pages while the current ones are stored."""

import threading
from collections import deque

_END = object()


def prefetched(pages, ahead=2, weight=None):
    """Iterate ``pages`` (a client's ``pull``) while a thread fetches the
    next ones, so that waiting for the platform overlaps storing in the
    database. The thread stops fetching while the pages waiting to be taken
    weigh ``ahead`` or more, a page weighing ``weight(page)`` (1 by default;
    the sync weighs pages by their posts, to fetch the next batch while it
    stores one). The pages and errors come in the order the client made
    them; the thread touches nothing but the client."""
    waiting = deque()
    state = {"weight": 0, "closing": False}
    changed = threading.Condition()

    def weigh(item):
        page, error = item
        return 1 if weight is None or error is not None or page is _END else max(1, weight(page))

    def put(item):
        with changed:
            while state["weight"] >= ahead and not state["closing"]:
                changed.wait()
            waiting.append(item)
            state["weight"] += weigh(item)
            changed.notify_all()
            return not state["closing"]

    def produce():
        try:
            for page in pages:
                if not put((page, None)):
                    return
        # whatever the client raises is raised again in the consumer's thread
        except Exception as error:  # pylint: disable=broad-exception-caught
            put((None, error))
            return
        put((_END, None))

    worker = threading.Thread(target=produce, name="social_crm-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            with changed:
                while not waiting:
                    changed.wait()
                item = waiting.popleft()
                state["weight"] -= weigh(item)
                changed.notify_all()
            page, error = item
            if error is not None:
                raise error
            if page is _END:
                return
            yield page
    finally:
        with changed:
            state["closing"] = True
            changed.notify_all()
        worker.join()
