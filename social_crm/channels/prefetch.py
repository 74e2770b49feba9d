"""Fetch the next pages while the current one is stored."""

import threading
from queue import Empty, Queue

_END = object()


def prefetched(pages, depth=2):
    """Iterate ``pages`` (a client's ``pull``) while a thread fetches up to
    ``depth`` pages ahead, so that waiting for the platform overlaps storing
    in the database. The pages and errors come in the order the client made
    them; the thread touches nothing but the client."""
    queue = Queue(maxsize=depth)
    closing = threading.Event()

    def produce():
        try:
            for page in pages:
                queue.put((page, None))
                if closing.is_set():
                    return
        # whatever the client raises is raised again in the consumer's thread
        except Exception as error:  # pylint: disable=broad-exception-caught
            queue.put((None, error))
            return
        queue.put((_END, None))

    worker = threading.Thread(target=produce, name="social_crm-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            page, error = queue.get()
            if error is not None:
                raise error
            if page is _END:
                return
            yield page
    finally:
        closing.set()
        while worker.is_alive():  # make room for a page the worker still puts
            try:
                queue.get_nowait()
            except Empty:
                worker.join(0.01)
