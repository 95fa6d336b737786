"""Concurrent creates naming the same aliases in different orders wait, never deadlock."""

from concurrent.futures import ThreadPoolExecutor

from packages_app.models import AliasAssignment


def test_reversed_alias_orders_do_not_deadlock(sdk_for):
    clients = [sdk_for(superuser=True) for _ in range(8)]
    names = ["alpha", "beta", "gamma"]

    def create(index: int):
        order = names if index % 2 else list(reversed(names))
        return clients[index].v1.packages.create(
            name=f"p{index}", aliases=[{"name": name} for name in order]
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(8)))  # any 500 would raise here

    assert len({result.data.id for result in results}) == 8
    in_force = AliasAssignment.objects.in_force().filter(ending_before__isnull=True)
    assert in_force.count() == 3  # each name ends up pointing at exactly one package
