"""qa_accuracy: numbers as numbers, text by SQuAD-normalised exact match and F1, contains on word boundaries."""

import json

import pytest

from fmgov.evaluations.evaluators import config_errors, get_evaluator
from fmgov.evaluations.evaluators.base import data_jsonl
from fmgov.evaluations.evaluators.qa_accuracy import extract, is_correct, last_number, token_f1
from fmgov.evaluations.testing.fake_openai import Behaviour
from fmgov.evaluations.tests.test_evaluators import run


@pytest.mark.parametrize(
    ("reply", "answer", "match", "correct"),
    [
        ("The answer is 14", "4", "auto", False),
        ("It is 4.", "4", "auto", True),
        ("Paris.", "Paris", "auto", True),
        ("It is not Paris", "Paris", "auto", False),
        ("I don't know", "no", "auto", False),
        ("The Amazon", "the Amazon", "auto", True),
        ("1,000 minus 1 is 999.", "999", "auto", True),
        ("4.0", "4", "numeric", True),
        ("It is not Paris", "Paris", "contains", True),
        ("Parisian cafés", "Paris", "contains", False),
        ("I don't know", "no", "contains", False),
        ("The answer is 4", r"\b4\b", "regex", True),
    ],
)
def test_matching(reply, answer, match, correct):
    assert is_correct(reply, answer, match) is correct


def test_token_f1_and_helpers():
    assert token_f1("It is not Paris", "Paris") == pytest.approx(0.4)
    assert token_f1("the Paris", "Paris") == 1.0 and token_f1("London", "Paris") == 0.0
    assert last_number("between 3 and 1,200 km") == 1200.0 and last_number("none") is None
    assert extract("Reasoning... ANSWER: 42", r"ANSWER:\s*(\S+)") == "42"
    assert extract("no marker here", r"ANSWER:\s*(\S+)") == ""


def test_config_validation():
    qa = get_evaluator("qa_accuracy")
    assert config_errors(qa, {}) == []  # the shipped set
    assert config_errors(qa, {"extract": "("})[0].startswith("extract: not a valid regular expression")
    bad = {"items": [{"prompt": "p", "answer": "four", "match": "numeric"}]}
    assert "not a number" in config_errors(qa, bad)[0]
    assert config_errors(qa, {"items": [{"prompt": "p", "answer": "a"}], "items_jsonl": "x"})


def test_the_shipped_set_scores_the_issue_examples(fake_openai):
    """The shipped set holds "What is 2 + 2?" (4) and the capital of France (Paris)."""
    rows = data_jsonl("qa_basic.jsonl")
    assert len(rows) >= 20 and {"4", "Paris"} <= {r["answer"] for r in rows}
    fake_openai.behaviour = Behaviour(answers={"2 + 2": "The answer is 14", "capital of France": "Paris."})
    result = run("qa_accuracy", fake_openai)
    fake_openai.behaviour = Behaviour(answers={"2 + 2": "It is 4.", "capital of France": "Paris."})
    right = run("qa_accuracy", fake_openai)
    assert result.details["item_set"] == "qa_basic.jsonl" and result.details["items"] == len(rows)
    assert result.metrics["accuracy"].value == pytest.approx(1 / len(rows))  # only Paris.
    assert right.metrics["accuracy"].value == pytest.approx(2 / len(rows))
    accuracy = right.metrics["accuracy"]
    assert accuracy.n == len(rows) and 0 < accuracy.ci_low < accuracy.value < accuracy.ci_high < 1
    f1 = right.metrics["f1"]
    assert f1.n == len(rows) and f1.ci_low <= f1.value <= f1.ci_high


def test_a_suite_extraction_pattern_and_contains_on_request(fake_openai):
    fake_openai.behaviour = Behaviour(
        answers={"capital": "Let me think. Final answer: Paris", "sum": "Final answer: 14", "city": "It is not Rome"}
    )
    items = [
        {"prompt": "The capital of France?", "answer": "Paris"},
        {"prompt": "The sum of 2 and 2?", "answer": "4"},
        {"prompt": "Which city is not the capital of Italy?", "answer": "Rome", "match": "contains"},
    ]
    config = {"items_jsonl": "\n".join(json.dumps(i) for i in items), "extract": r"final answer:\s*(.+)"}
    result = run("qa_accuracy", fake_openai, config)
    assert [s["correct"] for s in result.samples] == [True, False, False]  # nothing extracted from the third
    assert result.samples[0]["extracted"] == "Paris"
    assert result.metrics["exact_match"].value == pytest.approx(1 / 3) and result.metrics["accuracy"].n == 3
