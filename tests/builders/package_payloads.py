"""Request bodies shared by test modules (a helper module, not a test module)."""

from __future__ import annotations


def offset(unit: str = "DAYS", value: int = 0) -> dict:
    return {"unit": unit, "value": value}


def every_term_body(
    *,
    rate_card_id: str,
    fixed: str,
    usage: str,
    seats: str,
    tokens: str,
    usd: str,
    name: str,
    contract_name: str,
    alias: str,
    alias_starting_at: str,
    uniqueness_key: str,
) -> dict:
    """A package create body with a term of every kind and every field of PackageCreateParams
    (but rate_card_alias); `fixed` is the product the commits, credits and charges draw on."""
    payment_gate = {
        "payment_gate_type": "STRIPE",
        "stripe_config": {"payment_type": "INVOICE", "invoice_metadata": {"k": "v"}},
        "tax_type": "NONE",
        "precalculated_tax_config": {"tax_amount": 0, "tax_name": "none"},
    }
    return {
        "name": name,
        "contract_name": contract_name,
        "rate_card_id": rate_card_id,
        "aliases": [{"name": alias, "starting_at": alias_starting_at}],
        "billing_provider": "stripe",
        "delivery_method": "direct_to_billing_provider",
        "duration": offset("YEARS", 1),
        "multiplier_override_prioritization": "EXPLICIT",
        "net_payment_terms_days": 30,
        "scheduled_charges_on_usage_invoices": "ALL",
        "uniqueness_key": uniqueness_key,
        "usage_statement_schedule": {
            "frequency": "QUARTERLY",
            "day": "CONTRACT_START",
            "invoice_generation_starting_at_offset": offset("MONTHS", 1),
        },
        "commits": [
            {
                "type": "PREPAID",
                "product_id": fixed,
                "name": "Annual prepaid",
                "description": "Paid up front",
                "priority": 100,
                "rate_type": "COMMIT_RATE",
                "rollover_fraction": 0.25,
                "custom_fields": {"team": "sales"},
                "specifiers": [
                    {
                        "product_id": usage,
                        "product_tags": ["api"],
                        "pricing_group_values": {"region": "eu"},
                        "presentation_group_values": {"tier": "gold"},
                    }
                ],
                "access_schedule": {
                    "access_type": "SPEND",
                    "credit_type_id": usd,
                    "schedule_items": [
                        {
                            "amount": 1000.125,
                            "starting_at_offset": offset(),
                            "duration": offset("MONTHS", 6),
                        },
                        {
                            "amount": 2000,
                            "starting_at_offset": offset("MONTHS", 6),
                            "duration": offset("MONTHS", 6),
                        },
                    ],
                },
                "invoice_schedule": {
                    "credit_type_id": usd,
                    "do_not_invoice": True,
                    "schedule_items": [
                        {"date_offset": offset(), "quantity": 1, "unit_price": 3000.125}
                    ],
                },
                "temporary_id": "commit-a",
            }
        ],
        "credits": [
            {
                "product_id": fixed,
                "name": "Welcome credit",
                "description": "Free tokens",
                "priority": 1,
                "rate_type": "LIST_RATE",
                "custom_fields": {"campaign": "launch"},
                "applicable_product_ids": [usage],
                "applicable_product_tags": ["api"],
                "access_schedule": {
                    "access_type": "QUANTITY",
                    "credit_type_id": tokens,
                    "schedule_items": [
                        {
                            "amount": 50,
                            "starting_at_offset": offset("WEEKS", 1),
                            "duration": offset("DAYS", 30),
                        }
                    ],
                },
            }
        ],
        "recurring_commits": [
            {
                "product_id": fixed,
                "name": "Monthly seats commit",
                "description": "Per seat",
                "priority": 5,
                "rate_type": "LIST_RATE",
                "starting_at_offset": offset(),
                "duration": offset("YEARS", 1),
                "commit_duration": {"value": 1, "unit": "PERIODS"},
                "access_amount": {
                    "unit_price": 1000,
                    "access_type": "SPEND",
                    "credit_type_id": usd,
                },
                "invoice_amount": {"credit_type_id": usd, "quantity": 1, "unit_price": 1000},
                "proration": "FIRST",
                "proration_rounding": {
                    "access": {"decimal_places": 2, "rounding_method": "HALF_UP"},
                    "invoice": {"decimal_places": -2, "rounding_method": "FLOOR"},
                },
                "recurrence_frequency": "MONTHLY",
                "rollover_fraction": 0.5,
                "applicable_product_tags": ["api"],
                "subscription_config": {
                    "subscription_id": "seats",
                    "allocation": "INDIVIDUAL",
                    "apply_seat_increase_config": {"is_prorated": True},
                },
                "temporary_id": "rc-a",
            }
        ],
        "recurring_credits": [
            {
                "product_id": fixed,
                "priority": 6,
                "starting_at_offset": offset("MONTHS", 1),
                "commit_duration": {"value": 2},
                "access_amount": {"unit_price": 10, "quantity": 3, "access_type": "QUANTITY"},
                "proration_rounding": {
                    "access": {"decimal_places": 0, "rounding_method": "CEILING"}
                },
                "recurrence_frequency": "ANNUAL",
                "specifiers": [{"product_tags": ["api"]}],
                "temporary_id": "rcr-a",
            }
        ],
        "subscriptions": [
            {
                "collection_schedule": "ARREARS",
                "proration": {
                    "invoice_behavior": "BILL_ON_NEXT_COLLECTION_DATE",
                    "is_prorated": False,
                    "rounding": {"decimal_places": 2, "rounding_method": "HALF_UP"},
                },
                "subscription_rate": {"billing_frequency": "ANNUAL", "product_id": seats},
                "billing_cycle_config": {"invoice_placement": "ON_SCHEDULED_INVOICE"},
                "custom_fields": {"plan": "ent"},
                "description": "Seats",
                "name": "Seats",
                "duration": offset("MONTHS", 12),
                "starting_at_offset": offset("DAYS", 1),
                "quantity_management_mode": "SEAT_BASED",
                "seat_config": {"seat_group_key": "user_id", "initial_unassigned_seats": 2},
                "temporary_id": "seats",
            }
        ],
        "scheduled_charges": [
            {
                "product_id": fixed,
                "name": "Onboarding",
                "custom_fields": {"kind": "setup"},
                "schedule": {
                    "credit_type_id": usd,
                    "schedule_items": [
                        {"date_offset": offset("DAYS", 14), "quantity": 2, "unit_price": 0.5}
                    ],
                },
            }
        ],
        "overrides": [
            {
                "starting_at_offset": offset(),
                "duration": offset("MONTHS", 3),
                "type": "OVERWRITE",
                "priority": 1,
                "entitled": True,
                "is_commit_specific": True,
                "target": "COMMIT_RATE",
                "overwrite_rate": {
                    "rate_type": "TIERED",
                    "credit_type_id": tokens,
                    "tiers": [{"price": 1, "size": 100}, {"price": 0.5}],
                    "is_prorated": False,
                    "quantity": 1,
                },
                "override_specifiers": [
                    {
                        "product_id": usage,
                        "commit_ids": ["commit-a"],
                        "recurring_commit_ids": ["rc-a", "rcr-a"],
                        "billing_frequency": "MONTHLY",
                        "pricing_group_values": {"region": "eu"},
                        "presentation_group_values": {"tier": "gold"},
                        "product_tags": ["api"],
                    },
                    {"product_tags": ["api"], "any_commit_or_credit_ids": ["commit-a", "rc-a"]},
                ],
            },
            {
                "starting_at_offset": offset("MONTHS", 3),
                "type": "TIERED",
                "priority": 2,
                "tiers": [{"multiplier": 0.9, "size": 1000}, {"multiplier": 0.8}],
                "override_specifiers": [{"product_id": usage}],
            },
            {
                "starting_at_offset": offset(),
                "type": "OVERWRITE",
                "priority": 3,
                "overwrite_rate": {"rate_type": "CUSTOM", "custom_rate": {"formula": "x*2"}},
                "override_specifiers": [{"product_id": usage}],
            },
        ],
        "spend_trackers": [
            {
                "alias": "monthly-spend",
                "credit_type_id": usd,
                "reset_frequency": "BILLING_PERIOD",
                "applicable_spend_specifiers": [
                    {
                        "sources": ["THRESHOLD_RECHARGE", "MANUAL"],
                        "spend_type": "COMMIT_PURCHASE",
                        "discounted": "ANY",
                    }
                ],
            }
        ],
        "spend_threshold_configuration": {
            "commit": {
                "product_id": fixed,
                "name": "Threshold",
                "description": "d",
                "priority": 100,
            },
            "is_enabled": True,
            "threshold_amount": 10000,
            "payment_gate_config": payment_gate,
            "discount_configuration": {
                "payment_fraction": 0.85,
                "cap": {"amount": 50000, "spend_tracker_alias": "monthly-spend"},
            },
        },
        "prepaid_balance_threshold_configuration": {
            "commit": {
                "product_id": fixed,
                "applicable_product_ids": [usage],
                "duration": offset("YEARS", 1),
                "rate_type": "COMMIT_RATE",
                "rollover_fraction": 0,
            },
            "is_enabled": False,
            "threshold_amount": 100,
            "recharge_to_amount": 1000,
            "custom_credit_type_id": tokens,
            "payment_gate_config": {"payment_gate_type": "NONE"},
            "threshold_balance_specifiers": [
                {
                    "exclude": [
                        {"custom_field_filters": [{"entity": "Commit", "key": "k", "value": "v"}]}
                    ]
                }
            ],
        },
    }
