"""The `disclosure` command. Imports Dagster or Scrapy only inside the commands that need them."""
from __future__ import annotations

import argparse
import json
import sys


def cmd_parse(args: argparse.Namespace) -> int:
    from warehouse.parse import parse_file

    report = parse_file(args.file)
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"{args.file}: era={report.era} year={report.report_year} agency={report.agency_name} "
              f"facts={len(report.facts)} failed_checks={sum(not c.passed for c in report.checks)}")
        for note in report.notes:
            print(f"  note: {note}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="disclosure", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse one document and print its facts")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the JSON of spec/DATA_MODEL.md")
    p.set_defaults(func=cmd_parse)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
