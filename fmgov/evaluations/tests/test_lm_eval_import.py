"""lm-eval imports carry the file's own uncertainty: intervals from its standard errors, n from n-samples (issue 17)."""

import json

import pytest

from fmgov.evaluations.evaluators.base import Z95
from fmgov.evaluations.evaluators.lm_eval_import import NO_STDERR_METHOD, STDERR_METHOD, parse_lm_eval_results
from tests.data import REALWORLD_DIR

LM_EVAL_DIR = REALWORLD_DIR / "lm-eval"


def load(name_part: str) -> dict:
    [path] = [p for p in LM_EVAL_DIR.glob("*.json") if name_part in p.name]
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", sorted(LM_EVAL_DIR.glob("*.json")), ids=lambda p: p.name[:30])
def test_every_real_file_gets_intervals_from_its_own_standard_errors(path):
    data = json.loads(path.read_text())
    result = parse_lm_eval_results(data)
    checked = 0
    for task, values in data["results"].items():
        for key, stderr in values.items():
            metric, _, filter_name = key.partition(",")
            if not metric.endswith("_stderr") or not isinstance(stderr, int | float):
                continue
            base = metric.removesuffix("_stderr")
            name = f"{task}:{base}" if filter_name in ("", "none") else f"{task}:{base}[{filter_name}]"
            estimate = result.metrics[name]
            value = values[f"{base},{filter_name}" if filter_name else base]
            assert estimate.value == pytest.approx(value)
            assert estimate.ci_low == pytest.approx(value - Z95 * stderr)
            assert estimate.ci_high == pytest.approx(value + Z95 * stderr)
            assert estimate.method == STDERR_METHOD
            checked += 1
    assert checked > 0


def test_n_comes_from_n_samples_and_groups_sum_their_subtasks():
    data = load("Qwen")
    result = parse_lm_eval_results(data)
    assert result.metrics["arc_easy:acc"].n == data["n-samples"]["arc_easy"]["effective"]
    assert result.metrics["winogrande:acc"].n == 1267
    stem = sum(data["n-samples"][t]["effective"] for t in data["group_subtasks"]["mmlu_stem"])
    assert result.metrics["mmlu_stem:acc"].n == stem
    whole = sum(
        data["n-samples"][t]["effective"] for g in data["group_subtasks"]["mmlu"] for t in data["group_subtasks"][g]
    )
    assert result.metrics["mmlu:acc"].n == whole == 14042  # MMLU's test split
    older = parse_lm_eval_results(load("pythia"))
    assert all(m.n is None for m in older.metrics.values()), "v0.3 files give no sample counts: none invented"


def test_not_available_standard_errors_and_odd_counts_give_no_interval():
    data = {
        "results": {
            "mmlu": {"acc,none": 0.6, "acc_stderr,none": "N/A", "alias": "mmlu"},
            "gsm8k": {
                "exact_match,strict-match": 0.4,
                "exact_match_stderr,strict-match": 0.01,
                "exact_match,flexible-extract": 0.45,
                "exact_match_stderr,flexible-extract": "N/A",
            },
            "loop": {"acc,none": 0.5},
        },
        "n-samples": {"gsm8k": {"original": 1319, "effective": 100}, "mmlu": "many"},
        "group_subtasks": {"loop": ["loop"], "mmlu": []},
    }
    result = parse_lm_eval_results(data)
    mmlu = result.metrics["mmlu:acc"]
    assert (mmlu.value, mmlu.ci_low, mmlu.ci_high, mmlu.n, mmlu.method) == (0.6, None, None, None, NO_STDERR_METHOD)
    strict = result.metrics["gsm8k:exact_match[strict-match]"]
    assert strict.n == 100, "effective (after --limit), not original"
    assert strict.ci_low == pytest.approx(0.4 - Z95 * 0.01) and strict.ci_high == pytest.approx(0.4 + Z95 * 0.01)
    flexible = result.metrics["gsm8k:exact_match[flexible-extract]"]
    assert flexible.ci_low is None and flexible.n == 100
    assert result.metrics["loop:acc"].n is None, "a group listed as its own subtask does not recurse forever"
    assert result.details["stderr"] == {"gsm8k:exact_match_stderr[strict-match]": 0.01}
