from . import test_feed_sync
from . import test_partner_tour
