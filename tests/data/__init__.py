"""Test data kept in the repository, found from the repository root on any machine."""

from pathlib import Path

__all__ = ["REALWORLD_DIR"]

#: Real public Hugging Face model cards and lm-evaluation-harness results (see SOURCES.md there).
REALWORLD_DIR = Path(__file__).resolve().parent / "realworld"
