"""Contract edits over HTTP: v2 contracts/edit adding 1, 8 and 32 terms to a provisioned contract,
and getEditHistory / v2 get after many edits.

Prints, asserts nothing. Compared with the authenticated no-op measured in the same run. Queries
per edit come from the server's X-Query-Count header and should be the same whatever the number
of terms an edit adds (terms materialised in Python, written with one insert; the history entry
is stored rendered, so reading the history is one query however long it is).
"""

from __future__ import annotations

import datetime as dt

from bench.bench_contracts import _package_with, orm_server
from bench.harness import measure

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _credits(product_id: str, count: int) -> list[dict]:
    return [
        {
            "product_id": product_id,
            "access_schedule": {
                "schedule_items": [
                    {
                        "amount": 100 + n,
                        "starting_at": "2024-02-01T00:00:00Z",
                        "ending_before": "2024-03-01T00:00:00Z",
                    }
                ]
            },
        }
        for n in range(count)
    ]


def main() -> None:
    with orm_server() as (_, client, floor):
        from contracts_app.models import ContractTerm
        from tests.contracts_app.contract_builders import make_customer

        customer_id = str(make_customer("bench edits").id)
        package = _package_with(8)
        product_id = str(package.terms.exclude(product=None).first().product_id)

        def fresh_contract() -> str:
            return client.v1.contracts.create(
                customer_id=customer_id, starting_at=START, package_id=str(package.id)
            ).data.id

        results = {}
        for count, n in ((1, 100), (8, 100), (32, 50)):
            contract_id = fresh_contract()
            body = _credits(product_id, count)

            def edit(i, contract_id=contract_id, body=body):
                return client.v2.contracts.with_raw_response.edit(
                    customer_id=customer_id, contract_id=contract_id, add_credits=body
                )

            edit(0)
            results[count] = measure(f"edit: add {count} credits", edit, n)
            print(results[count].line(floor))
            rows = ContractTerm.objects.filter(contract_id=contract_id).count()
            print(f"  contract now has {rows} term rows")
        queries = {count: sorted(set(stats.queries)) for count, stats in results.items()}
        print(f"  queries per edit by terms added: {queries}")

        contract_id = fresh_contract()
        for i in range(200):
            client.v2.contracts.edit(
                customer_id=customer_id,
                contract_id=contract_id,
                update_contract_name=f"edit {i}",
            )

        def history(i):
            return client.v2.contracts.with_raw_response.get_edit_history(
                customer_id=customer_id, contract_id=contract_id
            )

        def get(i):
            return client.v2.contracts.with_raw_response.retrieve(
                customer_id=customer_id, contract_id=contract_id
            )

        print(measure("getEditHistory: 200 edits", history, 100).line(floor))
        print(measure("v2 get: 8-term package, 200 edits", get, 100).line(floor))


if __name__ == "__main__":
    main()
