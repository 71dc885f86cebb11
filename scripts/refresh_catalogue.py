#!/usr/bin/env python3
"""Regenerate a shipped size catalogue's prices from the cloud's published price format, saved to
a file first (migrator reaches no price API; docs/size.md, "Refreshing a catalogue"):

    python scripts/refresh_catalogue.py --cloud azure --from azure-eastus.json [--from page2.json]
    python scripts/refresh_catalogue.py --cloud gcp --from compute-skus.json --as-of 2027-01-15
    python scripts/refresh_catalogue.py --cloud aws --from AmazonEC2-us-east-1.json

Writes waves/data/<the cloud's catalogue>.json (or --out): the same sizes, new prices, `as_of` (the
day of the run, or --as-of) and `source` (the API and the file). The formats and where each
cloud documents them are in waves/price_refresh.py. A listed size without a price in the file
gets none and a warning on stderr; a file not in the cloud's format is one line and exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migrator.errors import ExitCode  # noqa: E402 - after the path above
from waves.price_refresh import PriceFileError, refresh  # noqa: E402
from waves.sizing import CATALOGUES  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", required=True, choices=sorted(CATALOGUES))
    parser.add_argument(
        "--from", dest="files", action="append", required=True, type=Path,
        help="the saved price answer (repeat for further pages of a paged answer)",
    )  # fmt: skip
    parser.add_argument("--as-of", help="the prices' date, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--out", type=Path, help="write here instead of the shipped catalogue")
    args = parser.parse_args(argv)
    as_of = args.as_of or dt.datetime.now(dt.UTC).date().isoformat()
    try:
        dt.date.fromisoformat(as_of)
    except ValueError:
        return _fail(f"--as-of {as_of!r}: not a date (YYYY-MM-DD)")
    shipped = ROOT / "waves" / CATALOGUES[args.cloud]
    current = json.loads(shipped.read_text(encoding="utf-8"))
    try:
        result = refresh(args.cloud, current, args.files, as_of)
    except PriceFileError as exc:
        return _fail(str(exc))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = args.out or shipped
    out.write_text(json.dumps(result.catalogue, indent=1) + "\n", encoding="utf-8")
    priced = sum(i["linux_hourly"] is not None for i in result.catalogue["instances"])
    print(f"{out}: {priced} of {len(result.catalogue['instances'])} sizes priced, as of {as_of}")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return int(ExitCode.USAGE)


if __name__ == "__main__":
    raise SystemExit(main())
