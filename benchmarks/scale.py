"""Scale benchmarks: streaming memory, length-bucketing speed-up, multi-worker throughput.

Each part prints a Markdown section; benchmarks/results/scale.md collects one run of each.

    python benchmarks/scale.py memory /tmp/reviews-200mb.csv /tmp/reviews-2000mb.csv
    python benchmarks/scale.py bucketing --sst2 /work/shared/datasets/sst2 --epochs 3 [--config configs/sst2.toml]
    python benchmarks/scale.py throughput --sst2 /work/shared/datasets/sst2 --steps 150

memory: peak RSS (``/usr/bin/time -v``) of streaming training for a fixed number
of steps on files of different sizes (make them with generate_reviews.py).
bucketing: SST-2 GLUE train.tsv in memory, fixed-length batches (every text
padded to the longest training text) against length-bucketed batches, with the
default config or --config; epoch
time and GLUE dev accuracy of the weights EarlyStopping restores (best
held-out val_loss), same seed and config otherwise.
throughput: multi-worker training with one and with two worker processes on
this machine (127.0.0.1), examples per second of the global batch in the
second epoch (the first includes tracing).
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))  # this checkout's sentiment_rnn, as the subprocesses (cwd=ROOT, -m) use


def memory(args) -> None:
    print("| file | size | rows | peak RSS | wall time |")
    print("|---|---|---|---|---|")
    for data in args.files:
        out = Path(tempfile.mkdtemp(prefix="scale-memory-")) / "model"
        command = [
            "/usr/bin/time",
            "-v",
            PYTHON,
            "-m",
            "sentiment_rnn",
            "train",
            "--data",
            data,
            "--epochs",
            "1",
            "--set",
            "data.streaming=true",
            "--set",
            f"data.vocabulary_sample={args.vocabulary_sample}",
            "--set",
            f"train.steps_per_epoch={args.steps}",
            "--set",
            f"train.validation_split={args.validation_split}",
            "--set",
            "train.bucket_by_length=true",
            "--quiet",
            "--out",
            str(out),
        ]
        print(f"<!-- {' '.join(command)} -->", file=sys.stderr)
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stdout + result.stderr)
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", result.stderr)[1]
        meta = (out / "meta.json").read_text()
        rows = int(re.search(r'"rows": (\d+)', meta)[1])
        size = Path(data).stat().st_size
        print(
            f"| {Path(data).name} | {size / 1e6:,.0f} MB | {rows:,} | {rss_kb / 1024:,.0f} MiB | {wall} |", flush=True
        )


def bucketing(args) -> None:
    from sentiment_rnn.config import load_config
    from sentiment_rnn.data.formats import read_dataset
    from sentiment_rnn.text import tokenize_py
    from sentiment_rnn.tf_setup import import_keras
    from sentiment_rnn.training.fit import fit
    from sentiment_rnn.training.pipeline import split_dataset, text_batches

    train_data = read_dataset(Path(args.sst2) / "train.tsv")
    dev = read_dataset(Path(args.sst2) / "dev.tsv")
    longest = max(len(tokenize_py(text)) for text in train_data.texts)
    variants = {
        f"fixed length ({longest} tokens)": [
            f"tokenizer.output_sequence_length={longest}",
            "train.bucket_by_length=false",
        ],
        "bucketed by length": ["tokenizer.output_sequence_length=0", "train.bucket_by_length=true"],
    }

    seconds: list[float] = []
    keras = import_keras()

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.started)  # training and validation of the epoch

    rows = []  # (seed, variant, epoch seconds, val accuracy by epoch, val accuracy restored, dev accuracy)
    for seed in args.seeds:
        for name, overrides in variants.items():
            config = load_config(
                args.config,
                overrides=[f"train.epochs={args.epochs}", f"train.patience={args.epochs}", f"train.seed={seed}"]
                + overrides,
            )
            split = split_dataset(train_data, config.train.validation_split, config.train.seed)
            seconds.clear()
            model, history = fit(config, split, verbose=0, callbacks=[EpochTimer()])
            dev_accuracy = model.evaluate(text_batches(dev, 256), verbose=0, return_dict=True)["accuracy"]
            losses, val_accuracy = history.history["val_loss"], history.history["val_accuracy"]
            restored = val_accuracy[losses.index(min(losses))]  # the epoch EarlyStopping restores
            rows.append((seed, name, list(seconds), val_accuracy, restored, dev_accuracy))
            print(f"<!-- seed {seed}, {name}: epochs {seconds}, history {history.history}, dev {dev_accuracy} -->")
    names = list(variants)
    base = np.mean([t for row in rows if row[1] == names[0] for t in row[2]])
    print("| seed | batches | epoch times (s) | mean epoch | held-out val accuracy by epoch | restored | GLUE dev |")
    print("|---|---|---|---|---|---|---|")
    for seed, name, times, val_accuracy, restored, dev_accuracy in rows:
        print(
            f"| {seed} | {name} | {', '.join(f'{t:.1f}' for t in times)} | {np.mean(times):.1f} s | "
            f"{', '.join(f'{a:.3f}' for a in val_accuracy)} | {restored:.4f} | {dev_accuracy:.4f} |"
        )
    print()
    print("| batches | mean epoch (all seeds) | ratio | held-out val accuracy (restored, mean) | GLUE dev (mean) |")
    print("|---|---|---|---|---|")
    for name in names:
        mine = [row for row in rows if row[1] == name]
        mean = np.mean([t for row in mine for t in row[2]])
        print(
            f"| {name} | {mean:.1f} s | {mean / base:.2f} | {np.mean([row[4] for row in mine]):.4f} | "
            f"{np.mean([row[5] for row in mine]):.4f} |"
        )


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def throughput(args) -> None:
    print("| workers | global batch | steps | seconds (second epoch, chief) | examples/s |")
    print("|---|---|---|---|---|")
    for count in (1, 2):
        workers = ",".join(f"127.0.0.1:{port}" for port in free_ports(count))
        out = Path(tempfile.mkdtemp(prefix="scale-throughput-")) / "model"
        processes = []
        for index in range(count):
            command = [
                PYTHON,
                "-m",
                "sentiment_rnn",
                "train",
                "--data",
                str(Path(args.sst2) / "train.tsv"),
                "--distribute",
                "multi-worker",
                "--workers",
                workers,
                "--worker-index",
                str(index),
                "--epochs",
                "2",
                "--set",
                f"train.steps_per_epoch={args.steps}",
                "--set",
                f"train.batch_size={args.batch_size}",
                "--set",
                "train.bucket_by_length=true",
                "--out",
                str(out),
            ]
            print(f"<!-- {' '.join(command)} -->", file=sys.stderr)
            processes.append(
                subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            )
        try:
            outputs = [process.communicate(timeout=3600)[0] for process in processes]
        finally:
            for process in processes:
                process.kill()
        match = re.search(r"Epoch 2/2 - (\d+) steps in ([\d.]+) s", outputs[0])  # epoch 1 includes tracing
        if not match:
            sys.exit(outputs[0])
        steps, seconds = int(match[1]), float(match[2])
        rate = steps * args.batch_size / seconds
        print(f"| {count} | {args.batch_size} | {steps} | {seconds:.1f} | {rate:,.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = parser.add_subparsers(dest="part", required=True)
    mem = parts.add_parser("memory")
    mem.add_argument("files", nargs="+")
    mem.add_argument("--steps", type=int, default=50)
    mem.add_argument("--validation-split", type=float, default=0.001)
    mem.add_argument("--vocabulary-sample", type=int, default=100000)
    mem.set_defaults(run=memory)
    buck = parts.add_parser("bucketing")
    buck.add_argument("--sst2", default="/work/shared/datasets/sst2")
    buck.add_argument("--epochs", type=int, default=3)
    buck.add_argument("--config", default=None, help="a config file (default: the built-in defaults)")
    buck.add_argument("--seeds", type=lambda text: [int(s) for s in text.split(",")], default=[42])
    buck.set_defaults(run=bucketing)
    thr = parts.add_parser("throughput")
    thr.add_argument("--sst2", default="/work/shared/datasets/sst2")
    thr.add_argument("--steps", type=int, default=150)
    thr.add_argument("--batch-size", type=int, default=64)
    thr.set_defaults(run=throughput)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
