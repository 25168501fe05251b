"""Benchmark predict: the NumPy engine against the Keras engine, whole processes side by side.

Measures, in one run:
  1. cold ``predict "text"``: wall time of the whole process, median of --runs
     runs per engine (the engines alternate, so load affects both alike);
  2. ``predict --file`` on --sentences generated sentences: sentences per second
     of the whole process (start-up included);
  3. ``predict --stream`` on a generated document of --stream-tokens tokens
     (NumPy; Keras on a tenth of it, its stateful loop being slower);
  4. peak resident memory of every process (``/usr/bin/time -f %M``);
  5. where the NumPy engine spends its time on the --file workload, in process:
     tokenizing, looking up ids, the forward pass.

The model is the default config (one SimpleRNN layer, 64 units, 64-dim
embeddings) with random weights and a vocabulary adapted on the generated
sentences, unless --model names a trained model directory. Speed does not
depend on the values of the weights.

Usage:
    python benchmarks/inference.py [--model DIR] [--runs 15] [--sentences 100000]
        [--stream-tokens 1000000] [--out benchmarks/results/inference.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REVIEW_WORDS = (
    "the a this that it phone battery screen camera sound price delivery case charger app update "
    "is was are were be not no never very really quite too so but and or because after before "
    "good great fine okay bad awful terrible excellent poor cheap expensive fast slow bright dim "
    "like love hate return recommend works broke lasts died charges crashes i we you they don't "
    "isn't wasn't can't won't at all now then still again"
).split()


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` review-like sentences of 3 to 30 words: common words, rarer made-up ones, punctuation."""
    rng = random.Random(seed)
    rare = [f"word{i}" for i in range(15000)]
    sentences = []
    for _ in range(n):
        words = [
            rng.choice(REVIEW_WORDS) if rng.random() < 0.8 else rng.choice(rare) for _ in range(rng.randint(3, 30))
        ]
        if rng.random() < 0.5:
            words.insert(rng.randint(1, len(words)), ",")
        words[0] = words[0].capitalize()
        sentences.append(" ".join(words).replace(" ,", ",") + rng.choice([".", "!", "", "?"]))
    return sentences


def build_model_dir(path: Path, sentences: list[str]) -> Path:
    """Write a model directory of the default architecture with random weights."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "tests"))
    from sentiment_rnn.config import load_config
    from sentiment_rnn.models import build_model, make_tokenizer
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    import tensorflow as tf
    from model_factory import write_model_dir  # noqa: E402  (tests/ helper: writes the files train writes)

    keras.utils.set_random_seed(0)
    config = load_config()
    tokenizer = make_tokenizer(config)
    tokenizer.adapt(tf.constant(sentences[:20000]))
    model = build_model(config, tokenizer)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, np.shape(w)).astype("float32") for w in model.get_weights()])
    return write_model_dir(model, config, path)


def run_process(args: list[str]) -> tuple[float, float, float, str]:
    """Run ``python -m sentiment_rnn ARGS``; (wall seconds, CPU seconds (user + system), peak RSS in MB, stdout).

    The peak RSS comes from ``/usr/bin/time -f %M``: the rusage of a child of
    this (large) process would include the memory it had when forked.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        start = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file.name, sys.executable, "-m", "sentiment_rnn", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        seconds = time.perf_counter() - start
        peak_kb, user, system = rss_file.read().split()[-3:]
    return seconds, float(user) + float(system), int(peak_kb) / 1024, result.stdout.decode("utf-8")


def write_document(path: Path, tokens: int, seed: int = 1) -> None:
    """A document of exactly ``tokens`` tokens, written in pieces (never held whole)."""
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        while written < tokens:
            n = min(1000, tokens - written)
            handle.write(" ".join(rng.choice(REVIEW_WORDS) for _ in range(n)) + "\n")
            written += n


def profile_numpy(model_dir: Path, sentences: list[str]) -> dict[str, float]:
    """Seconds the NumPy engine spends tokenizing, looking up ids and in the forward pass."""
    from sentiment_rnn.artifact.engine_files import load_engine

    engine = load_engine(model_dir)
    start = time.perf_counter()
    for text in sentences:
        engine.tokens(text)
    tokenized = time.perf_counter()
    flat, lengths = engine.encode(sentences)
    encoded = time.perf_counter()
    engine.predict_ids(flat, lengths)
    done = time.perf_counter()
    return {
        "tokenize": tokenized - start,
        "look up ids (tokenize and look up, minus tokenize)": (encoded - tokenized) - (tokenized - start),
        "forward pass": done - encoded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model directory (default: random default-config model)")
    parser.add_argument("--runs", type=int, default=15, help="cold runs per engine")
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--stream-tokens", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "inference.md")
    options = parser.parse_args()

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="sentiment-bench-"))
    sentences = generate_sentences(options.sentences)
    sentence_file = work / "sentences.txt"
    sentence_file.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    model_dir = options.model or build_model_dir(work / "model", sentences)
    model_label = str(options.model) if options.model else "default config, random weights (built by this script)"
    text = "No, this phone is good"

    print("cold start ...", flush=True)
    cold = {"numpy": [], "keras": []}
    cold_cpu = {"numpy": [], "keras": []}
    cold_rss = {"numpy": 0.0, "keras": 0.0}
    for _ in range(options.runs):
        for engine in ("numpy", "keras"):
            seconds, cpu_seconds, rss, _ = run_process(["predict", "--model", str(model_dir), "--engine", engine, text])
            cold[engine].append(seconds)
            cold_cpu[engine].append(cpu_seconds)
            cold_rss[engine] = max(cold_rss[engine], rss)

    print("--file ...", flush=True)
    throughput = {}
    for engine in ("numpy", "keras"):
        seconds, cpu_seconds, rss, stdout = run_process(
            ["predict", "--model", str(model_dir), "--engine", engine, "--file", str(sentence_file)]
        )
        assert len(stdout.splitlines()) == len(sentences)
        throughput[engine] = (seconds, cpu_seconds, rss)

    print("--stream ...", flush=True)
    document = work / "document.txt"
    write_document(document, options.stream_tokens)
    small_document = work / "document-small.txt"
    write_document(small_document, options.stream_tokens // 10)
    stream = {}
    for engine, path, tokens in (
        ("numpy", document, options.stream_tokens),
        ("keras", small_document, options.stream_tokens // 10),
    ):
        seconds, cpu_seconds, rss, stdout = run_process(
            ["predict", "--model", str(model_dir), "--engine", engine, "--stream", str(path), "--chunk-tokens", "1000"]
        )
        assert f"({tokens} tokens in " in stdout, stdout
        stream[engine] = (tokens, path.stat().st_size / 2**20, seconds, cpu_seconds, rss)

    print("profile ...", flush=True)
    profile = profile_numpy(model_dir, sentences)
    load_after = os.getloadavg()

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    median = {engine: statistics.median(times) for engine, times in cold.items()}
    n = len(sentences)
    lines = [
        "# Inference speed: NumPy engine against Keras engine",
        "",
        f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} CPUs (`nproc`), {cpu} (`lscpu` model name), Python {platform.python_version()}",
        f"- Load average before / after the run: {load_before[0]:.1f} / {load_after[0]:.1f} "
        f"(1 min).{' The machine was shared with other work during the run: absolute times are inflated, the side-by-side ratios are the fair comparison.' if max(load_before[0], load_after[0]) > 1.5 else ''}",
        f"- Model: {model_label}",
        f"- Command: `python benchmarks/inference.py --runs {options.runs} --sentences {options.sentences} "
        f"--stream-tokens {options.stream_tokens}`",
        "- Each figure is a whole `python -m sentiment_rnn predict ...` process (start-up included, timed "
        "with `/usr/bin/time`, whose few milliseconds are included); peak memory is the process's maximum "
        "resident set size (`/usr/bin/time -f %M`). CPU is the process's user + system time, which other "
        "load on the machine inflates far less than the wall time.",
        "",
        f'## Cold start: `predict --engine E "{text}"`, {options.runs} runs each, alternating',
        "",
        "| engine | median | min | max | median CPU | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    for engine in ("numpy", "keras"):
        lines.append(
            f"| {engine} | {median[engine]:.3f} s | {min(cold[engine]):.3f} s | {max(cold[engine]):.3f} s "
            f"| {statistics.median(cold_cpu[engine]):.3f} s | {cold_rss[engine]:.0f} MB |"
        )
    lines += [
        "",
        f"NumPy / Keras median: {median['numpy'] / median['keras']:.3f} (target: at most 0.1; and at most 0.3 s).",
        "",
        f"## Throughput: `predict --engine E --file sentences.txt`, {n:,} generated sentences",
        "",
        "| engine | whole process | sentences/s | CPU | sentences per CPU second | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    for engine in ("numpy", "keras"):
        seconds, cpu_seconds, rss = throughput[engine]
        lines.append(
            f"| {engine} | {seconds:.2f} s | {n / seconds:,.0f} | {cpu_seconds:.2f} s | {n / cpu_seconds:,.0f} "
            f"| {rss:.0f} MB |"
        )
    lines += [
        "",
        f"NumPy / Keras speed: {throughput['keras'][0] / throughput['numpy'][0]:.1f}x (target: at least 20,000 "
        "sentences/s, and faster than Keras).",
        "",
        "Where the NumPy engine spends the time on the same sentences (in process, after loading):",
        "",
        "| step | seconds |",
        "|---|---|",
        *[f"| {step} | {seconds:.2f} |" for step, seconds in profile.items()],
        "",
        "## Streaming: `predict --engine E --stream document.txt --chunk-tokens 1000`",
        "",
        "| engine | tokens | file size | whole process | tokens/s | CPU | peak memory |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in ("numpy", "keras"):
        tokens, megabytes, seconds, cpu_seconds, rss = stream[engine]
        lines.append(
            f"| {engine} | {tokens:,} | {megabytes:.1f} MB | {seconds:.1f} s | {tokens / seconds:,.0f} "
            f"| {cpu_seconds:.1f} s | {rss:.0f} MB |"
        )
    lines += [
        "",
        "The document is read in 64 KiB blocks and never held whole; the peak memory does not grow with its "
        "length (target: a million tokens in under 300 MB).",
        "",
    ]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
