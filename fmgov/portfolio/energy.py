"""The inference energy estimate of the period footprint, with the range its stated assumptions span.

A deployment's tokens in the period times its latest energy run's Wh and gCO2e per
1,000 tokens give the estimate; the run's interval on those figures (from
``latency_energy``: the stated power, utilisation, PUE and grid intensity ranges
and the measured throughput's interval) gives its low and high ends.
"""

from typing import NamedTuple

__all__ = [
    "ENERGY_EVALUATORS",
    "NO_ENERGY_RUN",
    "FOOTPRINT_METHOD",
    "ESTIMATE_KEYS",
    "PerThousand",
    "inference_estimate",
]

# The evaluators whose runs give energy and emissions per 1,000 tokens: chat and embeddings endpoints.
ENERGY_EVALUATORS = ("latency_energy", "embedding_latency_energy")
NO_ENERGY_RUN = "no succeeded latency_energy or embedding_latency_energy run"

FOOTPRINT_METHOD = {
    "training": (
        "Reported training energy (kWh) and emissions (tCO2e) of each foundation model that a deployment live "
        "in the period rests on, counted once per model however many deployments use it. Models that report "
        "neither energy, emissions nor compute count as undisclosed."
    ),
    "inference": (
        "Per deployment live at any time in the period: expected requests per day x tokens per request x the days "
        "of the period it was live (from the deployment status events of the audit trail) gives tokens; "
        "tokens / 1,000 x the energy (Wh per 1,000 tokens) and emissions (gCO2e per 1,000 tokens) "
        "of its latest succeeded latency_energy run (embedding_latency_energy for an embeddings endpoint) give the "
        "estimate. Where the run gives energy but no emissions "
        "the portfolio's default grid intensity is applied. Each estimate carries the range spanned by the "
        "stated assumptions (energy_kwh_low to energy_kwh_high, emissions_kgco2e_low to emissions_kgco2e_high): "
        "the run's energy and emissions per 1,000 tokens at the low and the high end of its stated accelerator "
        "power, utilisation, PUE and grid intensity (each a number or a [low, high] range in the suite) and of "
        "the measured throughput's interval, times the same tokens. Totals add the low ends and the high ends "
        "(every assumption at the same end). A run that states no range contributes its estimate to both ends. "
        "The range is not a sampling interval."
    ),
    "assumptions": [
        "Traffic is the deployment's declared expectation, not measured traffic.",
        "The latest energy run is representative of the whole period.",
        "Declared traffic and reported training figures carry no range; the range is that of the energy run.",
        "For an embeddings endpoint, tokens are the words of its inputs.",
        "A deployment without an energy run or declared traffic is listed with no estimate, not as zero.",
    ],
}


class PerThousand(NamedTuple):
    """An energy run's figure per 1,000 tokens and the range its stated assumptions span (None: none stated)."""

    value: float
    low: float | None
    high: float | None

    def ends(self) -> tuple[float, float, float]:
        return self.value, _or(self.low, self.value), _or(self.high, self.value)


def _or(x: float | None, default: float) -> float:
    return default if x is None else x


ESTIMATE_KEYS = tuple(f"{k}{end}" for k in ("energy_kwh", "emissions_kgco2e") for end in ("", "_low", "_high"))


def inference_estimate(
    tokens: int, values: dict[str, PerThousand], grid_gco2e_per_kwh: float
) -> tuple[list[float], list[float], bool]:
    """Wh and gCO2e for ``tokens`` as (estimate, low, high), and whether the run stated a range for them."""
    energy = values["energy_wh_per_1k_tokens"]
    wh = [tokens / 1000 * x for x in energy.ends()]
    emissions = values.get("emissions_gco2e_per_1k_tokens")
    if emissions is not None:
        grams = [tokens / 1000 * x for x in emissions.ends()]
    else:  # the portfolio's default grid intensity, a single number
        grams = [x / 1000 * grid_gco2e_per_kwh for x in wh]
    stated = energy.low is not None and energy.high is not None
    return wh, grams, stated
