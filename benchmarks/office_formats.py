"""Office attachments' parse speed, CPU time on one core (time.process_time):

    .venv/bin/python -m benchmarks.office_formats [--repeat N]

Each fixture of tests/fixtures/office (invented 3-table reports, 60-70 kB .doc/.wps, 13 kB
.xls/.et, 10 kB .xlsx) is parsed whole (parse_bytes: reader, era, table facts, checks) and
loaded alone (load_document: the reader), N times after one warm-up, in this process."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from warehouse.parse import parse_bytes
from warehouse.parse.formats import load_document

OFFICE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "office"
FILES = ["report_2021.doc", "report_2019.doc", "report_2021.wps", "report_2021.xls", "report_2021.xlsx",
         "report_2021.et"]


def cpu_per_call(function, repeat: int) -> float:
    function()
    started = time.process_time()
    for _ in range(repeat):
        function()
    return (time.process_time() - started) / repeat


def bench_office(repeat: int = 50) -> list[dict]:
    rows = []
    for name in FILES:
        data = (OFFICE / name).read_bytes()
        load = cpu_per_call(lambda: load_document(data, filename=name), repeat)
        parse = cpu_per_call(lambda: parse_bytes(data, filename=name), repeat)
        rows.append({"file": name, "bytes": len(data), "reader_s": load, "parse_s": parse})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["## Office attachments (CPU time, one core)\n",
             "| file | bytes | reader ms | parse ms | reports/s per core |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['file']} | {r['bytes']:,} | {r['reader_s'] * 1000:.1f} | {r['parse_s'] * 1000:.1f} |"
              f" {1 / r['parse_s']:.0f} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    print(markdown(bench_office(args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
