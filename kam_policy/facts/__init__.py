"""Facts: the fact models, the bundled schema, and the validating facts loader."""

from kam_policy.facts.bundled import bundled_schema
from kam_policy.facts.enums import OrderedEnum, enum_rank
from kam_policy.facts.load import FactSet, load_facts_file, parse_facts_json, validate_facts
from kam_policy.facts.models import (
    Application,
    Appraisal,
    Client,
    Complaint,
    Fact,
    Opportunity,
    Project,
    SalesResult,
    Staff,
    Training,
)
from kam_policy.facts.schema import FactSchema, FactType

__all__ = [
    "Application",
    "Appraisal",
    "Client",
    "Complaint",
    "Fact",
    "FactSchema",
    "FactSet",
    "FactType",
    "Opportunity",
    "OrderedEnum",
    "Project",
    "SalesResult",
    "Staff",
    "Training",
    "bundled_schema",
    "enum_rank",
    "load_facts_file",
    "parse_facts_json",
    "validate_facts",
]
