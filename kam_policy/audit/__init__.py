"""The decision trail: a tamper-evident log, and verify, query, replay and diff over it."""

from kam_policy.audit.log import DecisionLog, policy_from_record, read_records
from kam_policy.audit.query import QueryFilter, query
from kam_policy.audit.replay import Change, ReplayReport, diff_policies, replay
from kam_policy.audit.store import LogError
from kam_policy.audit.verify import VerifyResult, verify

__all__ = ["Change", "DecisionLog", "LogError", "QueryFilter", "ReplayReport", "VerifyResult",
           "diff_policies", "policy_from_record", "query", "read_records", "replay", "verify"]
