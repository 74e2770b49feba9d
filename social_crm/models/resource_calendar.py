from bisect import bisect_right
from datetime import timedelta

from pytz import utc

from odoo import models

#: how far ahead deadlines are searched before giving up on a calendar
#: with (almost) no working time
MAX_PLANNING_DAYS = 730


class ResourceCalendar(models.Model):
    _inherit = "resource.calendar"

    def _social_plan_hours_batch(self, requests):
        """``plan_hours`` for many ``(start, hours)`` at once (naive UTC in
        and out): the calendar's working intervals (leaves deducted) are read
        once, over a span that doubles until every request fits. A request
        that does not fit in ``MAX_PLANNING_DAYS`` gets False."""
        self.ensure_one()
        if not requests:
            return []
        starts = [utc.localize(start) for start, _hours in requests]
        first = min(starts)
        span = timedelta(days=14)
        while True:
            work = self._work_intervals_batch(first, max(starts) + span)[False]
            intervals = [(start, stop) for start, stop, _meta in work]
            stops = [stop for _start, stop in intervals]
            ends = [self._social_walk(intervals, stops, start, hours) for start, (_s, hours) in zip(starts, requests)]
            if all(ends) or span.days >= MAX_PLANNING_DAYS:
                return [end.astimezone(utc).replace(tzinfo=None) if end else False for end in ends]
            span *= 2

    @staticmethod
    def _social_walk(intervals, stops, start, hours):
        """The moment ``hours`` of work after ``start``, or None past the intervals."""
        left = timedelta(hours=hours)
        for interval_start, interval_stop in intervals[bisect_right(stops, start) :]:
            begin = max(interval_start, start)
            if left <= interval_stop - begin:
                return begin + left
            left -= interval_stop - begin
        return None

    def _social_work_hours(self, start, stop):
        """Working hours between two naive UTC datetimes."""
        return self.get_work_hours_count(utc.localize(start), utc.localize(stop), compute_leaves=True)
