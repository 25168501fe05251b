"""Scale benchmarks: streaming memory, length bucketing, multi-worker throughput, the cost of a training step.

Each part prints a Markdown section; benchmarks/results/scale.md collects one run of each.

    python benchmarks/scale.py memory /tmp/reviews-200mb.csv /tmp/reviews-2000mb.csv
    python benchmarks/scale.py bucketing --sst2 /work/shared/datasets/sst2 --epochs 3 [--config configs/sst2.toml]
    python benchmarks/scale.py throughput --sst2 /work/shared/datasets/sst2 --steps 150
    python benchmarks/scale.py step-cost --baseline /tmp/old-checkout --tokens 2,12 --rounds 2
    python benchmarks/scale.py epoch-time --baseline /tmp/old-checkout --config configs/sst2.toml --seeds 1,2,3

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
step-cost: milliseconds per training step of ``training.fit.fit`` on texts of
exactly N tokens (SST-2 train.tsv cut into N-token pieces, so the vocabulary
is SST-2's whatever N is), for the code of --baseline (another checkout, e.g.
``git archive`` of main) and of this checkout, alternating in one run; each
fit runs in a fresh process (``PYTHONPATH`` = that checkout). Training time
only: from an epoch's start to its last training batch, epochs after the
first (which traces).
epoch-time: the same two checkouts' ``fit`` on SST-2 GLUE train.tsv with a
config, per seed: epoch times and GLUE dev accuracy of the restored weights.
"""

from __future__ import annotations

import argparse
import json
import os
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


def run_child(code: str, *arguments: str) -> dict:
    """Run ``scale.py child ...`` in a fresh process importing sentiment_rnn from ``code``; its JSON result."""
    environment = {**os.environ, "PYTHONPATH": code}
    command = [PYTHON, str(Path(__file__).resolve()), "child", "--code", code, *arguments]
    print(f"<!-- PYTHONPATH={code} {' '.join(command[1:])} -->", flush=True)
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stdout + result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def commit_of(code: str) -> str:
    """The commit of a checkout (``git rev-parse``), or what a ``git archive`` extraction names in COMMIT."""
    marker = Path(code) / "COMMIT"
    if marker.exists():
        return marker.read_text().strip()
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True)
    return done.stdout.strip() or "?"


def step_cost(args) -> None:
    after = " ".join(args.after_set)
    variants = {"before": (args.baseline, [], []), "after": (str(ROOT), [], [])}  # name -> (code, overrides, flags)
    if args.after_set:
        variants[f"after, {after}"] = (str(ROOT), args.after_set, [])
    if args.in_model_tokenizer:  # this checkout's fit, but the step tokenizes again (as before)
        variants[f"after, tokenizing in the step, {after}"] = (str(ROOT), args.after_set, ["--in-model-tokenizer"])
    if args.frozen_embedding:  # what is left of a step without the embedding's dense Adam update
        variants[f"after, embedding not trained, {after}"] = (str(ROOT), args.after_set, ["--frozen-embedding"])
    print(f"<!-- before: {args.baseline} at {commit_of(args.baseline)}; after: {ROOT} at {commit_of(str(ROOT))} -->")
    steps: dict[tuple[str, int], list[float]] = {}  # (variant, tokens) -> ms per step of every timed epoch
    for _ in range(args.rounds):
        for tokens in args.tokens:
            for name, (code, overrides, flags) in variants.items():
                sets = [part for override in [*args.set, *overrides] for part in ("--set", override)] + flags
                result = run_child(
                    code,
                    "steps",
                    "--tokens",
                    str(tokens),
                    "--steps",
                    str(args.steps),
                    "--epochs",
                    str(args.epochs),
                    "--sst2",
                    args.sst2,
                    *sets,
                )
                steps.setdefault((name, tokens), []).extend(1000 * t / args.steps for t in result["train_seconds"][1:])
                print(f"<!-- {name}, {tokens} tokens: {result} -->", flush=True)
    print("| code | tokens per text | ms per step (median) | min | median / before's |")
    print("|---|---|---|---|---|")
    for tokens in args.tokens:
        base = np.median(steps[("before", tokens)])
        for name in variants:
            mine = steps[(name, tokens)]
            print(f"| {name} | {tokens} | {np.median(mine):.2f} | {min(mine):.2f} | {np.median(mine) / base:.2f} |")


def epoch_time(args) -> None:
    codes = {"before": args.baseline, "after": str(ROOT)}
    print(f"<!-- before: {args.baseline} at {commit_of(args.baseline)}; after: {ROOT} at {commit_of(str(ROOT))} -->")
    rows = []
    for seed in args.seeds:
        for name, code in codes.items():
            config = ["--config", str(Path(code) / args.config)] if args.config else []  # as that checkout ships it
            result = run_child(
                code, "sst2", "--seed", str(seed), "--epochs", str(args.epochs), "--sst2", args.sst2, *config
            )
            print(f"<!-- {name}, seed {seed}: {result} -->", flush=True)
            rows.append((seed, name, result))
    print("| seed | code | epoch times (s) | mean epoch | held-out val accuracy by epoch | restored | GLUE dev |")
    print("|---|---|---|---|---|---|---|")
    for seed, name, result in rows:
        times = result["epoch_seconds"]
        print(
            f"| {seed} | {name} | {', '.join(f'{t:.1f}' for t in times)} | {np.mean(times):.1f} s | "
            f"{', '.join(f'{a:.3f}' for a in result['val_accuracy'])} | {result['restored']:.4f} | {result['dev']:.4f} |"
        )
    print()
    print("| code | mean epoch (all seeds) | ratio | held-out val accuracy (restored, mean) | GLUE dev (mean) |")
    print("|---|---|---|---|---|")
    base = np.mean([t for _, name, result in rows if name == "before" for t in result["epoch_seconds"]])
    for code in codes:
        mine = [result for _, name, result in rows if name == code]
        mean = np.mean([t for result in mine for t in result["epoch_seconds"]])
        print(
            f"| {code} | {mean:.1f} s | {mean / base:.2f} | {np.mean([r['restored'] for r in mine]):.4f} | "
            f"{np.mean([r['dev'] for r in mine]):.4f} |"
        )


def child(args) -> None:
    """One fit with the sentiment_rnn of ``args.code`` (first on sys.path); prints one JSON line."""
    sys.path.insert(0, args.code)
    from sentiment_rnn.config import load_config
    from sentiment_rnn.data.dataset import Dataset
    from sentiment_rnn.data.formats import read_dataset
    from sentiment_rnn.text import tokenize_py
    from sentiment_rnn.tf_setup import import_keras
    from sentiment_rnn.training.fit import fit
    from sentiment_rnn.training.pipeline import split_dataset, text_batches

    keras = import_keras()
    train_data = read_dataset(Path(args.sst2) / "train.tsv")
    epoch_seconds: list[float] = []
    train_seconds: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = self.last_batch = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.last_batch = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            train_seconds.append(self.last_batch - self.started)  # the training steps of the epoch
            epoch_seconds.append(time.perf_counter() - self.started)  # and its validation

    if args.in_model_tokenizer:  # the step gets the text batches and tokenizes them itself, as before the change
        import sentiment_rnn.models
        import sentiment_rnn.training.fit

        sentiment_rnn.models.token_id_model = lambda model: model
        sentiment_rnn.training.fit.tokenized = lambda batches, vectorizers: batches
    if args.frozen_embedding:  # a reference, not a way to train: the step without the embedding's update
        import sentiment_rnn.training.fit

        build = sentiment_rnn.training.fit.build_training_model

        def frozen(*arguments, **keywords):
            model = build(*arguments, **keywords)
            model.get_layer("embedding").trainable = False
            return model

        sentiment_rnn.training.fit.build_training_model = frozen
    if args.mode == "steps":  # texts of exactly args.tokens tokens, SST-2's vocabulary
        tokens = [token for text in train_data.texts for token in tokenize_py(text)]
        pieces = [" ".join(tokens[i : i + args.tokens]) for i in range(0, len(tokens) - args.tokens + 1, args.tokens)]
        labels = np.random.default_rng(0).integers(0, 2, len(pieces)).astype(np.float32)
        config = load_config(
            args.config,
            overrides=[
                f"train.epochs={args.epochs}",
                f"train.patience={args.epochs}",
                f"train.steps_per_epoch={args.steps}",
                "train.validation_split=0.002",
                f"tokenizer.output_sequence_length={args.tokens}",
                *args.set,
            ],
        )
        split = split_dataset(Dataset(pieces, labels, "sst2-pieces"), config.train.validation_split, config.train.seed)
        fit(config, split, verbose=0, callbacks=[Timer()])
        print(json.dumps({"train_seconds": train_seconds, "epoch_seconds": epoch_seconds, "rows": len(pieces)}))
        return
    dev = read_dataset(Path(args.sst2) / "dev.tsv")
    config = load_config(
        args.config,
        overrides=[f"train.epochs={args.epochs}", f"train.patience={args.epochs}", f"train.seed={args.seed}"],
    )
    split = split_dataset(train_data, config.train.validation_split, config.train.seed)
    model, history = fit(config, split, verbose=0, callbacks=[Timer()])
    dev_accuracy = model.evaluate(text_batches(dev, 256), verbose=0, return_dict=True)["accuracy"]
    losses, val_accuracy = history.history["val_loss"], history.history["val_accuracy"]
    restored = val_accuracy[losses.index(min(losses))]  # the epoch EarlyStopping restores
    print(
        json.dumps(
            {
                "epoch_seconds": epoch_seconds,
                "train_seconds": train_seconds,
                "val_accuracy": val_accuracy,
                "restored": restored,
                "dev": dev_accuracy,
            }
        )
    )


def int_list(text: str) -> list[int]:
    """``"1,2,3"`` -> [1, 2, 3]."""
    return [int(part) for part in text.split(",")]


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
    buck.add_argument("--seeds", type=int_list, default=[42])
    buck.set_defaults(run=bucketing)
    thr = parts.add_parser("throughput")
    thr.add_argument("--sst2", default="/work/shared/datasets/sst2")
    thr.add_argument("--steps", type=int, default=150)
    thr.add_argument("--batch-size", type=int, default=64)
    thr.set_defaults(run=throughput)
    cost = parts.add_parser("step-cost")
    cost.add_argument("--baseline", required=True, help="the checkout to compare with (its sentiment_rnn is imported)")
    cost.add_argument("--sst2", default="/work/shared/datasets/sst2")
    cost.add_argument("--tokens", type=int_list, default=[2, 12])
    cost.add_argument("--steps", type=int, default=400, help="training steps per epoch")
    cost.add_argument("--epochs", type=int, default=4, help="epochs per fit; the first (tracing) is not timed")
    cost.add_argument("--rounds", type=int, default=2, help="fits per checkout and token count, alternating")
    cost.add_argument("--set", action="append", default=[], help="a config override for both checkouts")
    cost.add_argument("--after-set", action="append", default=[], help="also time this checkout with these overrides")
    cost.add_argument(
        "--in-model-tokenizer",
        action="store_true",
        help="also time this checkout with --after-set, tokenizing in the step",
    )
    cost.add_argument(
        "--frozen-embedding",
        action="store_true",
        help="also time this checkout with --after-set, embedding not trained (a reference, not a way to train)",
    )
    cost.set_defaults(run=step_cost)
    epoch = parts.add_parser("epoch-time")
    epoch.add_argument("--baseline", required=True, help="the checkout to compare with (its sentiment_rnn is imported)")
    epoch.add_argument("--sst2", default="/work/shared/datasets/sst2")
    epoch.add_argument("--config", default=None)
    epoch.add_argument("--epochs", type=int, default=2)
    epoch.add_argument("--seeds", type=int_list, default=[1, 2, 3])
    epoch.set_defaults(run=epoch_time)
    kid = parts.add_parser("child", help="internal: one fit in this process, JSON out")
    kid.add_argument("mode", choices=["steps", "sst2"])
    kid.add_argument("--code", required=True)
    kid.add_argument("--sst2", default="/work/shared/datasets/sst2")
    kid.add_argument("--config", default=None)
    kid.add_argument("--set", action="append", default=[])
    kid.add_argument("--tokens", type=int, default=2)
    kid.add_argument("--steps", type=int, default=400)
    kid.add_argument("--epochs", type=int, default=4)
    kid.add_argument("--seed", type=int, default=42)
    kid.add_argument("--in-model-tokenizer", action="store_true", help="fit the end-to-end model on text batches")
    kid.add_argument("--frozen-embedding", action="store_true", help="do not train the embedding (reference only)")
    kid.set_defaults(run=child)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
