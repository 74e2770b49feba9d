from . import social_source
from . import social_identity
from . import social_conversation
from . import social_message
from . import social_case_stage
from . import social_case
from . import res_partner
