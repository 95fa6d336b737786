"""config/core: one instant format and parse, domain errors mapped to statuses by the API only,
JSON that writes what DRF's encoder wrote, and the frequency table every billing rule reads."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
from decimal import Decimal

import pytest
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder

from config.api.errors import status_for
from config.core.billing_periods import PERIOD_BY_FREQUENCY, months_per_period, period_of
from config.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from config.core.instants import (
    format_day_or_minute,
    format_instant,
    format_instant_exact,
    format_instant_millis,
    format_instant_to_minute,
    format_instant_to_second,
    parse_instant,
)
from config.core.jsonutil import ExactDecimalEncoder

WHOLE = dt.datetime(2027, 1, 31, 14, 5, 9, tzinfo=dt.UTC)
FRACTION = dt.datetime(2027, 1, 31, 14, 5, 9, 250_400, tzinfo=dt.UTC)
PARIS = dt.timezone(dt.timedelta(hours=1))


def test_the_wire_writes_utc_with_z_and_milliseconds_only_when_present():
    assert format_instant(WHOLE) == "2027-01-31T14:05:09Z"
    assert format_instant(FRACTION) == "2027-01-31T14:05:09.250Z"
    assert format_instant(WHOLE.astimezone(PARIS)) == "2027-01-31T14:05:09Z"
    assert format_instant(None) is None


@pytest.mark.parametrize("moment", [WHOLE, FRACTION, WHOLE.astimezone(PARIS)])
def test_parse_reads_back_what_each_format_writes(moment):
    for text in (format_instant(moment), format_instant_exact(moment), moment.isoformat()):
        parsed = parse_instant(text)
        assert parsed.tzinfo is not None
        assert abs(parsed - moment) < dt.timedelta(milliseconds=1)
    assert parse_instant(format_instant_exact(moment)) == moment  # exact keeps microseconds
    assert parse_instant(moment) is moment
    assert parse_instant(None) is None


def test_parse_refuses_a_malformed_instant_with_value_error():
    with pytest.raises(ValueError):
        parse_instant("31/01/2027")


def test_the_presentation_precisions_are_named_and_utc():
    assert format_instant_to_second(FRACTION) == "2027-01-31T14:05:09Z"
    assert format_instant_to_minute(FRACTION.astimezone(PARIS)) == "2027-01-31T14:05Z"
    assert format_instant_millis(WHOLE) == "2027-01-31T14:05:09.000Z"
    assert format_instant_exact(FRACTION) == "2027-01-31T14:05:09.250400Z"
    assert format_day_or_minute(dt.datetime(2027, 1, 31, tzinfo=dt.UTC)) == "2027-01-31"
    assert format_day_or_minute(WHOLE) == "2027-01-31T14:05Z"
    # naive values (forms, admin) are taken as UTC
    assert format_instant_to_second(WHOLE.replace(tzinfo=None)) == "2027-01-31T14:05:09Z"


def test_domain_errors_carry_a_code_and_a_field_and_no_http_status():
    error = NotFound("Package not found", field="package_id")
    assert (error.code, error.field, error.message) == (
        "NOT_FOUND",
        "package_id",
        "Package not found",
    )
    for kind in (ApplicationError, ValidationFailed, NotFound, Conflict):
        assert not hasattr(kind, "status_code")


def test_the_api_maps_each_domain_code_to_its_status():
    assert status_for(ValidationFailed("bad")) == 400
    assert status_for(ApplicationError("bad")) == 400
    assert status_for(NotFound("gone")) == 404
    assert status_for(Conflict("taken")) == 409


class Shaped:
    """An object with `__iter__` only, as generators and sets are."""

    def __iter__(self):
        return iter([1, 2])


@pytest.mark.parametrize(
    "value",
    [
        WHOLE,
        FRACTION,
        WHOLE.astimezone(PARIS),
        dt.date(2027, 1, 31),
        dt.time(14, 5, 9, 250),
        dt.timedelta(days=1, seconds=3),
        uuid.UUID(int=7),
        ipaddress.ip_address("10.0.0.1"),
        b"bytes",
        (1, "a"),
        Shaped(),
        {"nested": [WHOLE, uuid.UUID(int=1), dt.date(2027, 2, 1)]},
    ],
)
def test_the_core_encoder_writes_every_non_decimal_value_as_drf_wrote_it(value):
    assert json.dumps(value, cls=ExactDecimalEncoder) == json.dumps(value, cls=DRFJSONEncoder)


def test_the_core_encoder_keeps_decimals_exact():
    amount = Decimal("0.1234567890123456789012345678901")
    assert (
        json.dumps({"a": amount}, cls=ExactDecimalEncoder)
        == '{"a": 0.1234567890123456789012345678901}'
    )
    with pytest.raises(TypeError):
        json.dumps(object(), cls=ExactDecimalEncoder)


def test_one_frequency_table_serves_recurring_terms_invoices_and_statements():
    assert period_of("ANNUAL") == ("MONTHS", 12)
    assert period_of("WEEKLY") == ("WEEKS", 1)
    assert [months_per_period(f) for f in ("MONTHLY", "QUARTERLY", "SEMI_ANNUAL", "ANNUAL")] == [
        1,
        3,
        6,
        12,
    ]
    with pytest.raises(ValueError):
        months_per_period("DAILY")
    assert set(PERIOD_BY_FREQUENCY) == {
        "DAILY",
        "WEEKLY",
        "MONTHLY",
        "QUARTERLY",
        "SEMI_ANNUAL",
        "ANNUAL",
    }
