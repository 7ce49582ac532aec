"""python -m demo_portal generate OUT_DIR [--seed N] | serve OUT_DIR [--port N] [--round 2] | verify OUT_DIR"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from demo_portal.generate import generate_portal, resolve_base
from demo_portal.server import serve_portal


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo_portal", description="The bundled demo portal.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the portal, answer key and registry under OUT_DIR")
    gen.add_argument("out_dir", type=Path)
    gen.add_argument("--seed", type=int, default=2024)
    serve = sub.add_parser("serve", help="serve OUT_DIR/site on 127.0.0.1 until interrupted")
    serve.add_argument("out_dir", type=Path)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--round", type=int, default=1, choices=(1, 2),
                       help="2: serve the reports edited since the first crawl (site_round2/) at their URLs")
    verify = sub.add_parser("verify", help="parse every report file of OUT_DIR and compare with the answer key")
    verify.add_argument("out_dir", type=Path)
    verify.add_argument("--database", type=Path,
                        help="also score the answer key's timeliness, changes and reconciliation against this "
                             "built warehouse (e.g. data/demo/warehouse.duckdb)")
    verify.add_argument("--skip-parse", action="store_true", help="do not parse the report files (with --database)")
    args = parser.parse_args(argv)
    if args.command == "verify":
        import json

        from demo_portal.verify import (
            SCORED_APART,
            verify_formats,
            verify_portal_parse,
            verify_warehouse,
        )

        key_file = args.out_dir / "answer_key.json"
        if not key_file.is_file():
            parser.error(f"no answer key at {key_file} (run: python -m demo_portal generate {args.out_dir})")
        if args.database is not None and not args.database.is_file():
            parser.error(f"no warehouse at {args.database}")
        key = json.loads(key_file.read_text(encoding="utf-8"))
        problems = {}
        if not (args.skip_parse and args.database):
            problems = verify_portal_parse(args.out_dir, key)
            for path, diff in problems.items():
                print(path, {k: (dict(list(v.items())[:6]) if isinstance(v, dict) else v) for k, v in diff.items()})
            apart = sum(1 for r in key["reports"] if r.get("format") in SCORED_APART)
            print(f"{len(problems)} of {len(key['reports']) - apart} reports differ from the answer key"
                  + (f" (and {apart} image-only reports scored apart)" if apart else ""))
            formats = verify_formats(args.out_dir, key)
            if formats:
                print("reports in other formats than an HTML page or a text PDF, each file parsed:")
                print("\n".join(formats))
        ok = True
        if args.database is not None:
            lines, ok = verify_warehouse(args.database, key)
            print("\n".join(lines))
        raise SystemExit(1 if problems or not ok else 0)
    if args.command == "generate":
        from demo_portal.office import AssetStale
        from demo_portal.scan import FontMissing

        try:
            key = generate_portal(args.out_dir, args.seed)
        except (FontMissing, AssetStale) as exc:
            parser.exit(1, f"error: {exc}\n")
        facts = sum(len(r["facts"]) for r in key["reports"])
        print(f"wrote {args.out_dir}: {len(key['reports'])} reports, {facts} facts")
        return
    with serve_portal(args.out_dir / "site", port=args.port) as server:
        server.set_round(args.round)
        sources = args.out_dir / "sources.yaml"
        if sources.exists():
            resolved = args.out_dir / "sources.resolved.yaml"
            resolved.write_text(resolve_base(sources.read_text(encoding="utf-8"), server.base_url), encoding="utf-8")
            print(f"sources with the base URL filled in: {resolved}")
        print(f"serving {args.out_dir / 'site'} at {server.base_url}/ (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
