"""The pages' forms by subject: `terms` (the builder's term rows), `builder` (the package
builder around them), `catalog` (alias schedules, rate cards, rates, products, metrics). The
plumbing they share (service-checked errors, UTC dates, the submit path) is `config.web.forms`."""

# The old flat module's names, so importers on other branches keep working; new code imports
# from the subject module (or config.web.forms for the plumbing).
from config.web.forms import (  # noqa: F401
    BLANK,
    ServiceCheckedChoiceField,
    ServiceForm,
    UTCDateTimeInput,
    as_wire,
    submit_through,
    today_utc,
    utc_datetime_field,
)
from packages_app.forms.builder import (  # noqa: F401
    FORMS_BY_KEY,
    AliasForm,
    BuilderForms,
    PackageForm,
    VersionForm,
    add_row_to,
    builder_initial_from_package,
    not_carried_over,
    rate_card_alias_choices,
    remove_row_from,
)
from packages_app.forms.catalog import (  # noqa: F401
    AliasScheduleForm,
    BillableMetricForm,
    ProductForm,
    RateCardAliasForm,
    RateCardForm,
    RateForm,
    package_choices,
    parse_tiers,
)
from packages_app.forms.terms import (  # noqa: F401
    FREQUENCY_CHOICES,
    TERM_FORMS,
    UNIT_CHOICES,
    TermForm,
    product_choices,
    product_field,
)
