"""Large numbers people can read at a glance: parameter counts, FLOPs, tokens, requests."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
# Short scale, as model sizes are quoted (7B, 70B); past trillions a power of ten reads better.
NAMED = [(Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K")]


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


@register.filter
def grouped(value) -> str:
    """A whole number with thousands separators (7,241,732,096); anything else unchanged."""
    number = _decimal(value)
    if number is None:
        return "—" if value is None else str(value)
    return number_format(number.to_integral_value(), 0, force_grouping=True)


@register.filter
def magnitude(value) -> str:
    """7.2 B, 13 M, 1.5 T; from a quadrillion up, 2.1 × 10²⁴ (training compute in FLOP)."""
    number = _decimal(value)
    if number is None:
        return "—" if value is None else str(value)
    size = abs(number)
    if size >= Decimal(10) ** 15:
        exponent = size.adjusted()
        mantissa = number.scaleb(-exponent)
        return f"{mantissa:.1f} × 10{str(exponent).translate(SUPERSCRIPT)}"
    for scale, suffix in NAMED:
        if size >= scale:
            return f"{number / scale:.1f} {suffix}"
    return grouped(number)
