"""``python -m scoring evaluate CASE`` and ``python -m scoring check CASE_OR_DIR...``.

evaluate prints the engine's answers as JSON (exit 0) or ``{"error": ...}`` (exit 2);
check runs cases with ``expect``, prints pass/fail and exits 1 on any failure
(../shared/conformance/FORMAT.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scoring.cases import evaluate_file
from scoring.conformance import check_file, collect
from scoring.errors import InputError


def _evaluate(path: Path) -> int:
    try:
        answer = evaluate_file(path)
    except InputError as exc:
        print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        return 2
    except OSError as exc:
        print(json.dumps({"error": f"cannot read {path}: {exc.strerror}"}, ensure_ascii=False))
        return 2
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


def _check(paths: list[Path], verbose: bool) -> int:
    files = collect(paths)
    missing = [p for p in paths if not p.exists()]
    passed = failed = 0
    for path in missing:
        print(f"FAIL {path}: no such file or directory")
        failed += 1
    for path in files:
        if not path.exists():
            continue
        result = check_file(path)
        if result.passed:
            passed += 1
            if verbose:
                print(f"pass {path}")
        else:
            failed += 1
            print(f"FAIL {path}" + (f" — {result.title}" if result.title else ""))
            for failure in result.failures:
                print(f"     {failure}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not files else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scoring", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="print the engine's answers to one case as JSON")
    ev.add_argument("case", type=Path)
    ch = sub.add_parser("check", help="run cases and compare with their expect")
    ch.add_argument("paths", type=Path, nargs="+")
    ch.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        return _evaluate(args.case)
    return _check(args.paths, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
