from .admission import AdmissionRequest, Advice, TransitionLog
from .contracts import (
    Act,
    Breach,
    BreachAction,
    Contract,
    ContractDocument,
    ContractEvent,
    ContractRate,
    InsurerTariff,
)
from .organisations import CareLocation, CareOrganisation, TargetGroup
from .regions import HapPost, PostcodeRange, Region
from .reminders import Reminder
from .triage import TriageFilterEntry
from .users import User

__all__ = [
    "Act",
    "AdmissionRequest",
    "Advice",
    "Breach",
    "BreachAction",
    "CareLocation",
    "CareOrganisation",
    "Contract",
    "ContractDocument",
    "ContractEvent",
    "ContractRate",
    "HapPost",
    "InsurerTariff",
    "PostcodeRange",
    "Region",
    "Reminder",
    "TargetGroup",
    "TransitionLog",
    "TriageFilterEntry",
    "User",
]
