"""`field__any_of=[...]`: `field = ANY(%s)` with the whole list as ONE array parameter.

`__in` resolves, prepares and quotes each element on its own; for the 500-id lists of a
cohort-migration batch that was 0.1 s of Python per batch (three lookups). Registered on every
field when this module is imported (config.core's app-independent ORM helpers)."""

from __future__ import annotations

from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        return "%s", [[field.get_db_prep_value(v, connection, prepared=False) for v in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        array_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY({rhs}::{array_type}[])", [*lhs_params, *rhs_params]
