from . import base_partner_merge_automatic_wizard
from . import social_reply_wizard
