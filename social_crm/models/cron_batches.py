"""The loop shared by the insight crons: batch after batch, each committed."""


def run_in_batches(model, domain, process, batch_size, max_batches, commit):
    """Call ``process`` on the records of ``domain``, ``batch_size`` at a time
    (``process`` takes them out of ``domain``), up to ``max_batches``; report
    progress so that the cron runner calls again while some remain. Returns
    the number of records processed."""
    done = 0
    for _batch in range(max_batches):
        records = model.search(domain, limit=batch_size, order="id")
        if not records:
            break
        process(records)
        done += len(records)
        model.env.flush_all()
        if commit:
            # one commit per batch, as mail's queue does: a crash or the
            # worker's time limit keeps the batches already done
            model.env.cr.commit()  # pylint: disable=invalid-commit
        # forget the batch: memory stays flat however many records wait
        model.env.invalidate_all()
    remaining = model.search_count(domain) if done else 0
    model.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
    return done
