from .admission import AdmissionRequest, Advice, TransitionLog
from .billing import (
    AccessLogEntry,
    AccessLogReference,
    AddressInvestigation,
    AdministrativeCost,
    Claim,
    ClaimImport,
    ClaimImportError,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
)
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
from .triage import TriageApiClient, TriageFilterEntry
from .users import User

__all__ = [
    "AccessLogEntry",
    "AccessLogReference",
    "AddressInvestigation",
    "AdministrativeCost",
    "Claim",
    "ClaimImport",
    "ClaimImportError",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumberSequence",
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
    "TriageApiClient",
    "TriageFilterEntry",
    "User",
]
