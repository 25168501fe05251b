"""Cold `predict "text"` with the bundled reviews-en against the default model `sentiment-rnn train` writes, in one run.

Trains the default model on the built-in corpus (`sentiment-rnn train --out DIR`, about a minute), then
runs, alternating, --runs cold processes of each of (timed as benchmarks/inference.py times its cold start):

    sentiment-rnn predict --model reviews-en "No, this phone is good"
    sentiment-rnn predict --model DIR "No, this phone is good"
    python -c "import numpy"

and writes the medians to benchmarks/results/cold_start.md. Target: reviews-en's median no slower than the
default model's (the ratio at most 1.0, within the run's noise, which the min/max columns show).

Usage: python benchmarks/cold_start.py [--runs 21]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import machine  # noqa: E402
from inference import compile_package, run_process  # noqa: E402

TEXT = "No, this phone is good"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cold_start.md")
    options = parser.parse_args()
    info = machine()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory() as tmp:
        default = Path(tmp) / "sentiment-model"
        train = [sys.executable, "-m", "sentiment_rnn", "train", "--quiet", "--out", str(default)]
        subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
        commands = {  # (arguments, as python -m sentiment_rnn ARGS or else python ARGS)
            'predict --model reviews-en "text"': (["predict", "--model", "reviews-en", TEXT], True),
            'predict --model sentiment-model "text" (default model)': (
                ["predict", "--model", str(default), TEXT],
                True,
            ),
            'python -c "import numpy"': (["-c", "import numpy"], False),
        }
        compile_package()
        for args, module in commands.values():  # one warm-up each: the first run pays for the disk cache
            run_process(args, module)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.runs):
            for name, (args, module) in commands.items():
                times[name].append(run_process(args, module)[0])
    median = {name: statistics.median(t) for name, t in times.items()}
    bundled, default_name, numpy_name = commands
    ratio = median[bundled] / median[default_name]
    lines = [
        "# Cold start: the bundled reviews-en against the default model",
        "",
        f"{date}: `python benchmarks/cold_start.py --runs {options.runs}` on {info['nproc']} cores ({info['cpu']}), "
        f"Python {info['python']}, load average {info['load']} at start; `python -m sentiment_rnn` processes, "
        f"the three commands alternating, one warm-up each, the package's bytecode compiled first (as `pip install` "
        "leaves it).",
        "",
        "| command | median | min | max |",
        "|---|---|---|---|",
        *[f"| `{name}` | {median[name]:.3f} s | {min(t):.3f} s | {max(t):.3f} s |" for name, t in times.items()],
        "",
        f"reviews-en / default model, median: **{ratio:.2f}** (target: at most 1.0). "
        f"reviews-en / import numpy: {median[bundled] / median[numpy_name]:.2f}.",
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
        "",
    ]
    options.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
