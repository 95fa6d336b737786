"""The catalog: credit types, billable metrics, products, rate cards and packages (DESIGN.md §3).

Storage choice for package terms: the queryable parts are columns (kind, ordinal, product) and
the rest of each term is its validated wire object in JSON, server ids included. That keeps
"every field sent comes back" trivially true and lets a package with any number of terms be
written with one bulk insert.
"""

from __future__ import annotations

import json
import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from config.core.instants import format_instant_to_minute
from config.core.jsonutil import DecimalDecoder, ExactDecimalEncoder

USD_CENTS_ID = uuid.UUID("2714e483-4ff1-48e4-9e25-ac732e8f24f2")


def minute_label(moment) -> str:
    """An instant as a short ISO 8601 UTC label (object names in admin)."""
    return format_instant_to_minute(moment) if moment else "-"


# One decoder for every read: `json.loads(cls=...)` builds a decoder (and its scanner) per
# value, which was a tenth of a cohort-migration batch's Python time. Decoding is stateless.
_SHARED_DECIMAL_DECODER = DecimalDecoder()


class DecimalJSONField(models.JSONField):
    """JSON whose numbers stay Decimal in and out (no float rounding in storage)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("encoder", ExactDecimalEncoder)
        kwargs.setdefault("decoder", DecimalDecoder)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and self.decoder is DecimalDecoder:
            try:
                return _SHARED_DECIMAL_DECODER.decode(value)
            except json.JSONDecodeError:
                return value  # as JSONField does: a key transform's plain text
        return super().from_db_value(value, expression, connection)


class ArchivableQuerySet(models.QuerySet):
    def not_archived(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def by_archive_filter(self, archive_filter: str):
        return {"NOT_ARCHIVED": self.not_archived, "ARCHIVED": self.archived, "ALL": self.all}[
            archive_filter
        ]()


class CreditType(models.Model):
    """A pricing unit: fiat (USD cents) or a custom unit such as credits or tokens."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    is_currency = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Archived, never deleted: packages name credit types inside their JSON terms, where no
    # foreign key protects them.
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BillableMetric(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=400)
    aggregation_type = models.CharField(max_length=20, blank=True)
    aggregation_key = models.CharField(max_length=400, blank=True)
    definition = DecimalJSONField(
        default=dict,
        blank=True,
        help_text="event_type_filter, property_filters, group_keys, sql, custom_fields",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="billablemetric_keyset")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Type(models.TextChoices):
        FIXED = "FIXED"
        USAGE = "USAGE"
        COMPOSITE = "COMPOSITE"
        SUBSCRIPTION = "SUBSCRIPTION"
        PROFESSIONAL_SERVICE = "PROFESSIONAL_SERVICE"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=24, choices=Type.choices)
    name = models.CharField(max_length=400)
    billable_metric = models.ForeignKey(
        BillableMetric, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    details = DecimalJSONField(
        default=dict, blank=True, help_text="Every other field sent at create"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="product_keyset")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(type="USAGE") | Q(billable_metric__isnull=False),
                name="product_usage_needs_metric",
                violation_error_message="A USAGE product needs a billable metric.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class RateCard(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=400)
    description = models.TextField(blank=True)
    fiat_credit_type = models.ForeignKey(
        CreditType, on_delete=models.PROTECT, default=USD_CENTS_ID, related_name="+"
    )
    details = DecimalJSONField(
        default=dict, blank=True, help_text="credit_type_conversions, custom_fields"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="ratecard_keyset")]

    def __str__(self) -> str:
        return self.name


class RateQuerySet(models.QuerySet):
    def active_at(self, at):
        return self.filter(
            Q(starting_at__lte=at), Q(ending_before__isnull=True) | Q(ending_before__gt=at)
        )


class Rate(models.Model):
    class RateType(models.TextChoices):
        FLAT = "FLAT"
        PERCENTAGE = "PERCENTAGE"
        SUBSCRIPTION = "SUBSCRIPTION"
        TIERED = "TIERED"
        TIERED_PERCENTAGE = "TIERED_PERCENTAGE"
        CUSTOM = "CUSTOM"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rate_card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="rates")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="rates")
    starting_at = models.DateTimeField()
    ending_before = models.DateTimeField(null=True, blank=True)
    entitled = models.BooleanField(default=True)
    rate_type = models.CharField(max_length=20, choices=RateType.choices)
    price = models.DecimalField(max_digits=40, decimal_places=20, null=True, blank=True)
    credit_type = models.ForeignKey(
        CreditType, on_delete=models.PROTECT, default=USD_CENTS_ID, related_name="+"
    )
    pricing_group_values = DecimalJSONField(default=dict, blank=True)
    details = DecimalJSONField(
        default=dict, blank=True, help_text="tiers, quantity, is_prorated, commit_rate, ..."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RateQuerySet.as_manager()

    class Meta:
        ordering = ["rate_card", "starting_at", "id"]
        indexes = [
            models.Index(fields=["rate_card", "starting_at", "id"], name="rate_card_starting")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ending_before__isnull=True) | Q(ending_before__gt=F("starting_at")),
                name="rate_interval_positive",
                violation_error_message="A rate must end after it starts.",
            ),
            # One rate per schedule key (selectors/rate_schedule.py) and start: adding the same
            # rate again is one rate, a new price on the same start replaces the old one.
            models.UniqueConstraint(
                F("rate_card"),
                F("product"),
                F("pricing_group_values"),
                Coalesce(KT("details__billing_frequency"), Value("")),
                F("starting_at"),
                name="rate_one_per_schedule_key_and_start",
                violation_error_message="The card already has a rate for this product from then.",
            ),
        ]

    def __str__(self) -> str:
        price = "" if self.price is None else f" {format(self.price.normalize(), 'f')}"
        return f"{self.rate_type}{price} from {minute_label(self.starting_at)}"


class AliasName(models.Model):
    """The stable handle ("Starter Plan") that points at one target at a time.

    Its integer id keys the exclusion constraint (no btree_gist on the embedded server), and it
    is what pricing-plan schedules call a pricing plan (DESIGN.md §6).
    """

    class Kind(models.TextChoices):
        PACKAGE = "package"
        RATE_CARD = "rate_card"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=400)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "name"],
                name="alias_name_unique_per_kind",
                violation_error_message="This alias name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class AliasAssignmentQuerySet(models.QuerySet):
    def in_force(self):
        """Rows still part of the schedule (superseded ones are history only)."""
        return self.filter(superseded_at__isnull=True)

    def active_at(self, at):
        return self.in_force().filter(
            Q(starting_at__lte=at), Q(ending_before__isnull=True) | Q(ending_before__gt=at)
        )


class AliasAssignment(models.Model):
    """One interval of an alias name's schedule: `name` means `target` in [starting_at, ending_before).

    Exactly one of package / rate_card is set, matching the alias name's kind. Older rows are
    trimmed or split when a name is reassigned, never deleted, so the history stays visible.
    """

    id = models.BigAutoField(primary_key=True)
    alias_name = models.ForeignKey(AliasName, on_delete=models.PROTECT, related_name="assignments")
    package = models.ForeignKey(
        "Package", on_delete=models.PROTECT, null=True, blank=True, related_name="alias_assignments"
    )
    rate_card = models.ForeignKey(
        RateCard, on_delete=models.PROTECT, null=True, blank=True, related_name="alias_assignments"
    )
    starting_at = models.DateTimeField()
    ending_before = models.DateTimeField(null=True, blank=True)
    # Set when a later assignment covers this whole interval: kept for history, no longer in force.
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AliasAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["alias_name", "starting_at"]
        indexes = [
            models.Index(fields=["alias_name", "starting_at"], name="alias_assignment_by_name")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(package__isnull=False) & Q(rate_card__isnull=True))
                | (Q(package__isnull=True) & Q(rate_card__isnull=False)),
                name="alias_assignment_one_target",
                violation_error_message="An alias points at exactly one package or rate card.",
            ),
            models.CheckConstraint(
                condition=Q(ending_before__isnull=True) | Q(ending_before__gt=F("starting_at")),
                name="alias_assignment_interval_positive",
                violation_error_message="An alias interval must end after it starts.",
            ),
            ExclusionConstraint(
                name="alias_assignment_no_overlap",
                expressions=[
                    (
                        Func(
                            F("alias_name_id"),
                            F("alias_name_id"),
                            Value("[]"),
                            function="int8range",
                        ),
                        RangeOperators.EQUAL,
                    ),
                    (
                        Func(F("starting_at"), F("ending_before"), function="tstzrange"),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(superseded_at__isnull=True),
                violation_error_message="An alias points at one target at any instant.",
            ),
        ]

    def __str__(self) -> str:
        # The name only when it was loaded with the row: a label must not cost a query.
        alias_name = AliasAssignment.alias_name.field.get_cached_value(self, default=None)
        name = f"{alias_name.name!r} " if alias_name is not None else ""
        until = minute_label(self.ending_before) if self.ending_before else "open end"
        return f"alias interval {name}{minute_label(self.starting_at)} to {until}"


class AliasAssignmentAnnouncement(models.Model):
    """An alias assignment whose taking effect has been announced (webhook `alias.repointed`):
    at most one row per assignment, so the beat that finds them announces each exactly once
    (services.alias_announcements)."""

    assignment = models.OneToOneField(
        AliasAssignment,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="announcement",
    )
    announced_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"announced {self.assignment_id}"


class InvoicingSettings(models.Model):
    """Invoicing settings a package carries and each contract provisioned from it takes: the
    same columns on both tables (Package, contracts_app's Contract)."""

    net_payment_terms_days = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    multiplier_override_prioritization = models.CharField(max_length=24, blank=True)
    scheduled_charges_on_usage_invoices = models.CharField(max_length=8, blank=True)

    class Meta:
        abstract = True


class Package(InvoicingSettings):
    """An immutable, time-relative contract template layered on a rate card."""

    class DurationUnit(models.TextChoices):
        DAYS = "DAYS"
        WEEKS = "WEEKS"
        MONTHS = "MONTHS"
        YEARS = "YEARS"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=400)
    contract_name = models.CharField(max_length=400, blank=True)
    rate_card = models.ForeignKey(
        RateCard, on_delete=models.PROTECT, null=True, blank=True, related_name="packages"
    )
    rate_card_alias = models.CharField(max_length=400, blank=True)
    billing_provider = models.CharField(max_length=40, blank=True)
    delivery_method = models.CharField(max_length=40, blank=True)
    duration_unit = models.CharField(max_length=8, choices=DurationUnit.choices, blank=True)
    duration_value = models.PositiveIntegerField(null=True, blank=True)
    # Scalar configuration objects, stored as their validated wire form.
    settings = DecimalJSONField(
        default=dict,
        blank=True,
        help_text="usage_statement_schedule, spend_threshold_configuration, prepaid_balance_threshold_configuration",
    )
    uniqueness_key = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The response object less created_at, archived_at and aliases, rendered once at create
    # (the package is immutable) as JSON text, which reads send as stored (text, not jsonb:
    # nothing queries inside it, and PostgreSQL need not re-serialise it for every read).
    # NULL means "render at next read": rows made outside package_create, or whose product or
    # credit type names have changed.
    wire = models.TextField(null=True, blank=True, editable=False)
    # When a product name the wire shows changes by a scheduled update (products/update with
    # a future starting_at): from then on reads treat the wire as missing and render it again.
    wire_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="package_keyset"),
            # The default list (NOT_ARCHIVED) pages through this one: archived packages pile up
            # and would otherwise be read and skipped before every page.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(archived_at__isnull=True),
                name="package_keyset_not_archived",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["uniqueness_key"],
                condition=Q(uniqueness_key__isnull=False),
                name="package_uniqueness_key",
                violation_error_message="A package with this uniqueness_key already exists.",
            ),
            models.CheckConstraint(
                condition=Q(rate_card__isnull=True) | Q(rate_card_alias=""),
                name="package_one_rate_card_reference",
                violation_error_message="Give rate_card_id or rate_card_alias, not both.",
            ),
            models.CheckConstraint(
                condition=(Q(duration_unit="") & Q(duration_value__isnull=True))
                | (~Q(duration_unit="") & Q(duration_value__isnull=False)),
                name="package_duration_complete",
                violation_error_message="A duration needs both unit and value.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# What a package says about each contract it provisions, besides its rate card and its terms.
PACKAGE_CONTRACT_SETTINGS = (
    "billing_provider",
    "delivery_method",
    "duration_unit",
    "duration_value",
    "net_payment_terms_days",
    "multiplier_override_prioritization",
    "scheduled_charges_on_usage_invoices",
    "settings",
)


class PackageTerm(models.Model):
    """One term of a package; `body` is the term's validated wire object, server ids included."""

    class Kind(models.TextChoices):
        COMMIT = "commit"
        CREDIT = "credit"
        RECURRING_COMMIT = "recurring_commit"
        RECURRING_CREDIT = "recurring_credit"
        OVERRIDE = "override"
        SCHEDULED_CHARGE = "scheduled_charge"
        SUBSCRIPTION = "subscription"
        SPEND_TRACKER = "spend_tracker"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="terms")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ordinal = models.PositiveIntegerField()
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="package_terms"
    )
    body = DecimalJSONField(default=dict)

    class Meta:
        ordering = ["package", "kind", "ordinal"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "kind", "ordinal"], name="package_term_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.ordinal}"
