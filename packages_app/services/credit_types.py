from __future__ import annotations

from django.db import IntegrityError, transaction

from config.api.errors import Conflict
from packages_app.models import CreditType


def credit_type_create(*, name: str) -> CreditType:
    try:
        with transaction.atomic():
            return CreditType.objects.create(name=name, is_currency=False)
    except IntegrityError:
        raise Conflict(f"A pricing unit named {name!r} already exists", field="name") from None
