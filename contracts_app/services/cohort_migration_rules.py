"""Which contracts a cohort migration moves: every eligibility rule, listed once.

A contract of the cohort is skipped with the reason of the first rule it breaks, in this
order. The plan judges all of them in SQL (cohort_migration_plan._judged_sql, one CASE branch
per rule, in this order); a batch checks again, in Python, the rules that can change between
the plan and the batch (cohort_migration_batches._recheck, _skip_reason and _target_configuration), in the same order.
tests/contracts_app/test_cohort_migration_rules.py builds one contract per rule and checks
both give its reason, and that the two checks name exactly the reasons listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts_app.models import CohortMigrationItem

Reason = CohortMigrationItem.Reason

PLAN = "plan (SQL)"
PLAN_AND_BATCH = "plan (SQL) and batch (Python recheck)"


@dataclass(frozen=True)
class EligibilityRule:
    reason: str
    rule: str  # the rule in words: the contract is skipped when …
    checked: str  # PLAN or PLAN_AND_BATCH


ELIGIBILITY_RULES: tuple[EligibilityRule, ...] = (
    EligibilityRule(Reason.CONTRACT_ARCHIVED, "the contract is archived", PLAN_AND_BATCH),
    EligibilityRule(
        Reason.OPEN_ENDED,
        "an end-of-term job meets a contract with no end (no instant to move at)",
        PLAN,
    ),
    EligibilityRule(
        Reason.IN_OTHER_MIGRATION,
        "another job holds the contract as a pending item",
        PLAN,  # a batch never sees it: the unique pending-item index keeps one job per contract
    ),
    EligibilityRule(
        Reason.ENDS_BEFORE_EFFECTIVE,
        "the contract ends at or before its effective instant (not for end-of-term jobs)",
        PLAN_AND_BATCH,
    ),
    EligibilityRule(
        Reason.STARTS_AFTER_EFFECTIVE,
        "the contract starts at or after its effective instant",
        PLAN_AND_BATCH,
    ),
    EligibilityRule(
        Reason.SUCCESSOR_EXISTS,
        "a later live contract of its subscription already follows it",
        PLAN_AND_BATCH,
    ),
    EligibilityRule(
        Reason.HAS_EDITS,
        "the contract has edits and the job skips edited contracts",
        PLAN_AND_BATCH,
    ),
    EligibilityRule(
        Reason.TARGET_ALIAS_UNRESOLVED,
        "the target alias points at no package at the effective instant",
        PLAN_AND_BATCH,
    ),
    EligibilityRule(Reason.TARGET_ARCHIVED, "the target package is archived", PLAN_AND_BATCH),
    EligibilityRule(
        Reason.ALREADY_ON_TARGET, "the contract is already on the target package", PLAN_AND_BATCH
    ),
    EligibilityRule(
        Reason.NO_BILLING_CONFIGURATION,
        "the target names a billing provider and the customer has no live configuration of it",
        PLAN_AND_BATCH,
    ),
    EligibilityRule(
        Reason.AMBIGUOUS_BILLING_CONFIGURATION,
        "the target names a billing provider and the customer has several live configurations"
        " of it",
        PLAN_AND_BATCH,
    ),
)
