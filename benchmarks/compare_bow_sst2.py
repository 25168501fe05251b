"""Benchmark: compare-bow on SST-2 (GLUE train, GLUE dev), written to benchmarks/results/compare_bow_sst2.md.

Runs the command exactly as a user would, in a subprocess, with --json, and
records the machine, date, command, wall time and both models' accuracies on
the held-out validation split of GLUE train, on GLUE dev and on the shipped
contrast set. Reads the data from ../shared/datasets (never committed).

    python benchmarks/compare_bow_sst2.py [--datasets DIR] [-- extra compare-bow options]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "compare_bow_sst2.md"
DEFAULT_OPTIONS = ["--epochs", "5", "--set", "train.batch_size=128"]


def machine() -> str:
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"{os.cpu_count()} CPU cores (nproc), {model}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("extra", nargs="*", help="compare-bow options (default: %(default)s)", default=DEFAULT_OPTIONS)
    args = parser.parse_args()
    sst2 = Path(args.datasets) / "sst2"
    command = [
        sys.executable,
        "-m",
        "sentiment_rnn",
        "compare-bow",
        "--data",
        str(sst2 / "train.tsv"),
        "--eval-data",
        str(sst2 / "dev.tsv"),
        *args.extra,
        "--json",
    ]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    load = f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    if output.returncode != 0:
        sys.exit(output.stdout + output.stderr)
    report = json.loads(output.stdout)
    shown = ["sentiment-rnn", *command[3:]]
    lines = [
        "# compare-bow on SST-2",
        "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {machine()}; shared with other jobs while it ran ({load})",
        f"- Command (run by `python benchmarks/compare_bow_sst2.py`): `{shlex.join(shown)}`",
        f"- Wall time, both models trained and evaluated: {seconds / 60:.1f} min",
        f"- Training data: {report['training']['train_rows']} rows of GLUE train; "
        f"{report['training']['validation_rows']} held out (seed {report['training']['seed']})",
        "",
        "| measured on | n | bag of words (unigrams) | RNN (default SimpleRNN) |",
        "|---|---|---|---|",
    ]
    for accuracy in report["heldout"]:
        source = accuracy["source"].replace(str(sst2), "sst2")
        lines.append(f"| {source} | {accuracy['n']} | {accuracy['bow']:.3f} | {accuracy['rnn']:.3f} |")
    contrast = report["contrast"]
    for measure in ("sentence_accuracy", "pair_accuracy"):
        lines.append(
            f"| contrast set ({contrast['n_pairs']} pairs), {measure.replace('_', ' ')} | "
            f"{contrast['n_pairs'] * (2 if measure == 'sentence_accuracy' else 1)} | "
            f"{contrast['bow'][measure]:.3f} | {contrast['rnn'][measure]:.3f} |"
        )
    seed = report["seed_example"]
    texts = " / ".join(f"{s['text']}: bag of words {s['bow']:.3f}, RNN {s['rnn']:.3f}" for s in seed["sentences"])
    lines += [
        "",
        f"Seed example (bags equal: {seed['bags_equal']}, baseline difference {seed['bow_difference']!r}): {texts}.",
        "",
        "Accuracy counts a probability >= 0.5 as positive. The validation split is held out from fitting and used",
        "for early stopping; GLUE train holds many phrases of the same sentences, so a random split shares",
        "sentences with training and flatters both models. GLUE dev is never seen in training: it is the figure",
        "to compare. Peer figures for SST-2 GLUE dev on this kind of machine are in ../shared/datasets/README.md",
        "(unigram bag of words + logistic regression: 0.818). The contrast set is the built-in one (phone and",
        "product reviews), far from SST-2's movie reviews.",
        "",
    ]
    RESULT.write_text("\n".join(lines), encoding="utf-8")
    print(RESULT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
