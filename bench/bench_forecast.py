"""`POST /v1/packages/forecast` over HTTP: a 12-month forecast of the seed-002 Starter Plan
(`manage.py seed_demo`, by its alias) with expected token usage, timed against the floor's
no-op; prints the median and p95 in ms and the queries per forecast. Prints, asserts nothing.
"""

from __future__ import annotations

import json
import os

from bench.harness import floor_stats, measure, running_server

N = int(os.environ.get("BENCH_FORECASTS", "100"))

TOKEN_PRODUCTS_SCRIPT = """
import json
from packages_app.models import Product
print(json.dumps({p.name: str(p.id) for p in Product.objects.filter(name__endswith=" tokens")}))
"""


def main() -> None:
    with running_server() as server:
        server.manage("seed_demo", "--customers", "0")
        products = json.loads(server.manage("shell", "-c", TOKEN_PRODUCTS_SCRIPT).splitlines()[-1])
        body = {
            "package_alias": "Starter Plan",
            "starting_at": "2026-03-01T00:00:00Z",
            "months": 12,
            "usage": [
                {"product_id": products["Input tokens"], "quantity_per_month": 10_000_000},
                {"product_id": products["Output tokens"], "quantity_per_month": 2_000_000},
            ],
        }
        client = server.sdk()

        def forecast(_i: int):
            return client.post(
                "/v1/packages/forecast",
                cast_to=object,
                body=body,
                options={"headers": {"X-Stainless-Raw-Response": "true"}},
            )

        answer = json.loads(forecast(0).read())["data"]
        floor = floor_stats(server, n=N)
        stats = measure("forecast: Starter Plan, 12 months", forecast, N)
        print(floor.line())
        print(stats.line(floor))
        print(
            f"  periods {len(answer['periods'])}, total {answer['total']} "
            f"(credit type {answer['total_credit_type_id']}), load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


if __name__ == "__main__":
    main()
