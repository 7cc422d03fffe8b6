"""The number filters pages use for parameter counts, FLOPs and tokens."""

import pytest
from django.template import Context, Template

from fmgov.core.templatetags.fmgov_numbers import grouped, magnitude


@pytest.mark.parametrize(
    ("value", "shown"),
    [(7_241_732_096, "7,241,732,096"), (1000, "1,000"), (999, "999"), (0, "0"), (-12345, "-12,345"),
     (1.5e6, "1,500,000"), ("12000", "12,000"), (None, "—"), ("n/a", "n/a")],
)  # fmt: skip
def test_grouped(value, shown):
    assert grouped(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(7_241_732_096, "7.2 B"), (70_000_000_000, "70.0 B"), (1_500_000_000_000, "1.5 T"), (13_000_000, "13.0 M"),
     (4_096, "4.1 K"), (512, "512"), (2.1e24, "2.1 × 10²⁴"), (3.8e25, "3.8 × 10²⁵"), (None, "—")],
)  # fmt: skip
def test_magnitude(value, shown):
    assert magnitude(value) == shown


def test_filters_load_in_templates():
    rendered = Template("{% load fmgov_numbers %}{{ n|grouped }} ({{ n|magnitude }})").render(Context({"n": 7 * 10**9}))
    assert rendered == "7,000,000,000 (7.0 B)"
