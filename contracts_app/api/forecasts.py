"""`POST /v1/packages/forecast` (ours): what a customer on a package would be billed, period by
period, from the terms and the rate card, with optional expected usage. Nothing is written.

Body: `package_id` or `package_alias` (resolved as of `starting_at`), `starting_at`, `months`
(1 to 36, default 12), optional `usage: [{product_id, quantity_per_month}]`, optional
`customer_id` (the customer's billing configuration is checked as provisioning would).
Periods follow the package's usage statement schedule (month ends clamp: a Jan 31 start gives
Jan 31, Feb 28, Mar 31 with day CONTRACT_START). Each line says its `kind` (subscription,
scheduled_charge, commit_invoice, usage, credit_grant, commit_grant) and the package term that
produced it (`term_id`; `override_term_id` when an override priced it). Grants are not charges;
usage is priced gross, before any drawdown of credits or commits. `total` is the charges in the
rate card's fiat credit type; `credit_types` gives charges and grants per credit type.
Rules: contracts_app/services/forecasts.py.
"""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.api.serializers import StrictSerializer
from config.api.views_base import ServicePostApi, data_answer
from config.core.instants import format_instant
from contracts_app.services.forecasts import (
    CHARGE_KINDS,
    DEFAULT_MONTHS,
    GRANT_KINDS,
    MAX_MONTHS,
    MIN_MONTHS,
    Forecast,
    ForecastLine,
    package_forecast,
)
from packages_app.api.package_serializers import Number, Text, items
from packages_app.api.response_serializers import NumberOutput


class ForecastUsageInput(StrictSerializer):
    product_id = Text()
    quantity_per_month = Number()  # 0 or more: the amounts rule, in the service


class PackageForecastInput(StrictSerializer):
    package_id = Text(required=False)
    package_alias = Text(required=False)
    starting_at = serializers.DateTimeField()
    months = serializers.IntegerField(
        min_value=MIN_MONTHS, max_value=MAX_MONTHS, default=DEFAULT_MONTHS
    )
    usage = items(ForecastUsageInput(), required=False)
    customer_id = Text(required=False)


_LINE_FIELDS = {
    "kind": serializers.ChoiceField(choices=[*CHARGE_KINDS, *GRANT_KINDS]),
    "product_id": serializers.CharField(allow_null=True),
    "name": serializers.CharField(),
    "quantity": NumberOutput(
        help_text="Units (a tier's units for a tiered rate); for a part period, the whole "
        "period's, `proration` saying the share billed"
    ),
    "unit_price": NumberOutput(),
    "multiplier": NumberOutput(),
    "proration": serializers.CharField(help_text="The share of the period billed, as p/q"),
    "amount": NumberOutput(),
    "credit_type_id": serializers.CharField(),
    "term_id": serializers.CharField(allow_null=True),
    "override_term_id": serializers.CharField(allow_null=True),
    "billed_at": serializers.DateTimeField(),
}
_PERIOD_FIELDS = {
    "starting_at": serializers.DateTimeField(),
    "ending_before": serializers.DateTimeField(),
    "lines": inline_serializer("PackageForecastLine", _LINE_FIELDS, many=True),
    "total": NumberOutput(),
}
_CREDIT_TYPE = inline_serializer(
    "PackageForecastCreditType",
    {"name": serializers.CharField(), "charges": NumberOutput(), "grants": NumberOutput()},
)
PackageForecastResponse = inline_serializer(
    "PackageForecastResponse",
    {
        "data": inline_serializer(
            "PackageForecast",
            {
                "package_id": serializers.CharField(),
                "starting_at": serializers.DateTimeField(),
                "ending_before": serializers.DateTimeField(),
                "periods": inline_serializer("PackageForecastPeriod", _PERIOD_FIELDS, many=True),
                "total": NumberOutput(),
                "total_credit_type_id": serializers.CharField(),
                "credit_types": serializers.DictField(child=_CREDIT_TYPE),
                "notes": serializers.ListField(child=serializers.CharField()),
            },
        )
    },
)


def line_data(line: ForecastLine) -> dict:
    return {
        "kind": line.kind,
        "product_id": line.product_id,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "multiplier": line.multiplier,
        "proration": f"{line.proration.numerator}/{line.proration.denominator}",
        "amount": line.amount,
        "credit_type_id": line.credit_type_id,
        "term_id": line.term_id,
        "override_term_id": line.override_term_id,
        "billed_at": format_instant(line.billed_at),
    }


def forecast_data(forecast: Forecast) -> dict:
    return {
        "package_id": str(forecast.package.id),
        "starting_at": format_instant(forecast.starting_at),
        "ending_before": format_instant(forecast.ending_before),
        "periods": [
            {
                "starting_at": format_instant(period.starting_at),
                "ending_before": format_instant(period.ending_before),
                "lines": [line_data(line) for line in period.lines],
                "total": period.total,
            }
            for period in forecast.periods
        ],
        "total": forecast.total,
        "total_credit_type_id": forecast.fiat_credit_type_id,
        "credit_types": forecast.credit_types,
        "notes": forecast.notes,
    }


class PackageForecastApi(ServicePostApi):
    required_permission = "packages_app.view_package"
    operation_id, input, responses = (
        "packages_forecast",
        PackageForecastInput,
        {200: PackageForecastResponse},
    )
    description = __doc__

    def perform(self, data):
        return package_forecast(
            starting_at=data["starting_at"],
            package_id=data.get("package_id"),
            package_alias=data.get("package_alias"),
            months=data["months"],
            usage=data.get("usage") or (),
            customer_id=data.get("customer_id"),
        )

    def answer(self, forecast):
        return data_answer(forecast_data(forecast))
