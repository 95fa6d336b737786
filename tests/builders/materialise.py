"""Package terms as materialisation reads them, without a database: shared by the materialise
tests (a helper module, not a test module)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from tests.contracts_app.contract_builders import with_server_ids

UTC = dt.UTC
PRODUCT = type("P", (), {"id": uuid.UUID("11111111-1111-4111-8111-111111111111")})()


@dataclass
class FakeTerm:
    kind: str
    body: dict
    ordinal: int = 0
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    product_id: uuid.UUID | None = PRODUCT.id


def terms(*pairs) -> list[FakeTerm]:
    seen: dict[str, int] = {}
    out = []
    for kind, body in pairs:
        body = with_server_ids(body)
        out.append(FakeTerm(kind, body, ordinal=seen.get(kind, 0), id=uuid.UUID(body["id"])))
        seen[kind] = seen.get(kind, 0) + 1
    return out


def at(y, m, d, h=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=UTC)
