from .admission import AdmissionRequest, Advice, TransitionLog
from .organisations import CareLocation, CareOrganisation, TargetGroup
from .regions import HapPost, PostcodeRange, Region
from .users import User

__all__ = [
    "AdmissionRequest",
    "Advice",
    "CareLocation",
    "CareOrganisation",
    "HapPost",
    "PostcodeRange",
    "Region",
    "TargetGroup",
    "TransitionLog",
    "User",
]
