"""seed_demo finds every app's demo module and runs the seeders in the dependency order."""

from fmgov.core.seeding import demo_seeders


def test_demo_seeders_are_discovered_in_installed_apps_order() -> None:
    modules = [seed.__module__ for seed in demo_seeders()]
    assert modules == [
        "fmgov.accounts.demo",
        "fmgov.registry.demo",
        "fmgov.reviews.demo",
        "fmgov.evaluations.demo",
        "fmgov.portfolio.demo",
        "reports.demo",
    ]
