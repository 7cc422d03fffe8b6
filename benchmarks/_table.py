"""The table ``make bench`` ends with: every JSON figure line the benchmarks printed, one row each.

python benchmarks/_table.py var/bench.log
"""

import json
import sys


def rows(lines):
    for line in lines:
        line = line.strip()
        if line.startswith("{") and '"benchmark"' in line:
            yield json.loads(line)


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        figures = list(rows(handle))
    header = f"{'benchmark':<58} {'value':>12} {'baseline':>12} {'ratio':>8} {'goal':>12}  met"
    print(header)
    print("-" * len(header))
    for f in figures:

        def num(v):
            return "" if v is None else f"{v:,.3f}"

        goal = "" if f["goal"] is None else f"{f['op']} {f['goal']}"
        met = {True: "yes", False: "NO", None: ""}[f.get("met")]
        name = f"{f['benchmark']} ({f['unit']})" if f.get("unit") else f["benchmark"]
        print(f"{name:<58} {num(f['value']):>12} {num(f['baseline']):>12} {num(f['ratio']):>8} {goal:>12}  {met}")
    return 1 if any(f.get("met") is False for f in figures) and "--strict" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
