"""Rebuild the bundled reviews-en model from the public datasets' training splits, and record the wall time.

Run from the repository root, with the datasets in ../shared/datasets (see configs/reviews-en.toml):

    nice -n 10 python benchmarks/build_reviews_en.py

It trains configs/reviews-en.toml into sentiment_rnn/bundled/reviews-en (the directory the package ships),
drops what predicting does not need (history.csv, training.png), adds build.json (the command, the wall
time, the machine) and prints the summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "configs/reviews-en.toml"
OUT = "sentiment_rnn/bundled/reviews-en"
COMMAND = f"sentiment-rnn train --config {CONFIG} --out {OUT}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT, help=f"model directory to write (default: {OUT})")
    args = parser.parse_args()
    load = os.getloadavg()
    started = time.perf_counter()
    command = [sys.executable, "-m", "sentiment_rnn", "train", "--config", CONFIG, "--out", args.out]
    subprocess.run(command, cwd=ROOT, check=True)
    wall = time.perf_counter() - started
    out = ROOT / args.out
    for name in ("history.csv", "training.png"):
        (out / name).unlink(missing_ok=True)
    build = {
        "command": COMMAND,
        "config": CONFIG,
        "wall_seconds": round(wall, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "load_average_at_start": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    (out / "build.json").write_text(json.dumps(build, indent=2) + "\n", encoding="utf-8")
    print(f"Built {args.out} in {wall / 60:.1f} minutes.")


if __name__ == "__main__":
    main()
