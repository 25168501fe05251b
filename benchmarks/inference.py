"""Benchmark predict and evaluate: the whole process against the engine in process, and fastText, in one run.

Measures, in one run (every target is a ratio of figures from this run):
  1. the NumPy engine in process (``predict_proba`` on --sentences generated
     sentences) for the default SimpleRNN and the bidirectional GRU of
     configs/sst2.toml, and fastText's in-process ``predict`` on the same
     texts (fastText from the ``bench`` extra, trained here for one epoch);
  2. whole ``python -m sentiment_rnn predict`` processes on the same texts:
     ``--file`` (text and ``--json``) and ``--data sentences.csv --output``;
  3. cold ``predict "text"`` against ``python -c "import numpy"``, alternating,
     median of --runs each;
  4. peak resident memory of ``predict --file`` and ``evaluate`` on
     --memory-lines and ten times as many short labelled lines, and of
     ``evaluate`` on the IMDB test set (--imdb, if the file exists);
  5. ``predict --stream`` on a generated document of --stream-tokens tokens.

The models have random weights and a vocabulary adapted on the generated
sentences; speed does not depend on the values of the weights.

Usage:
    python benchmarks/inference.py [--runs 15] [--sentences 100000] [--memory-lines 1000000]
        [--stream-tokens 1000000] [--imdb ../shared/datasets/imdb/aclImdb_v1.tar.gz]
        [--out benchmarks/results/inference.md]
"""

from __future__ import annotations

import argparse
import csv
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


def build_model_dir(path: Path, sentences: list[str], config_file: Path | None = None) -> Path:
    """Write a model directory of the config's architecture (default: configs/default.toml) with random weights."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "tests"))
    from sentiment_rnn.config import load_config
    from sentiment_rnn.models import build_model, make_tokenizer
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    import tensorflow as tf
    from model_factory import write_model_dir  # noqa: E402  (tests/ helper: writes the files train writes)

    keras.utils.set_random_seed(0)
    config = load_config(config_file)
    tokenizer = make_tokenizer(config)
    tokenizer.adapt(tf.constant(sentences[:20000]))
    model = build_model(config, tokenizer)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, np.shape(w)).astype("float32") for w in model.get_weights()])
    return write_model_dir(model, config, path)


def run_process(args: list[str], module: bool = True) -> tuple[float, float, float, str]:
    """Run ``python -m sentiment_rnn ARGS`` (or ``python ARGS``); (wall s, CPU s (user + system), peak RSS MB, stdout).

    The peak RSS comes from ``/usr/bin/time -f %M``: the rusage of a child of
    this (large) process would include the memory it had when forked.
    """
    command = [sys.executable, "-m", "sentiment_rnn", *args] if module else [sys.executable, *args]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        start = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file.name, *command],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        seconds = time.perf_counter() - start
        peak_kb, user, system = rss_file.read().split()[-3:]
    return seconds, float(user) + float(system), int(peak_kb) / 1024, result.stdout.decode("utf-8")


def compile_package() -> None:
    """Write the package's bytecode (``__pycache__``), as ``pip install`` does, so cold starts do not compile sources.

    An editable checkout writes it on first import anyway, unless PYTHONDONTWRITEBYTECODE
    is set; with it set every cold process would compile each module again.
    """
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sentiment_rnn")], check=True, env=env)


def write_document(path: Path, tokens: int, seed: int = 1) -> None:
    """A document of exactly ``tokens`` tokens, written in pieces (never held whole)."""
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        while written < tokens:
            n = min(1000, tokens - written)
            handle.write(" ".join(rng.choice(REVIEW_WORDS) for _ in range(n)) + "\n")
            written += n


def write_labelled_lines(path: Path, lines: int, seed: int = 2) -> None:
    """``lines`` short label-text lines (``1 the battery is good``), written in pieces."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for start in range(0, lines, 100_000):
            handle.write(
                "".join(
                    f"{rng.randint(0, 1)} {' '.join(rng.choices(REVIEW_WORDS, k=rng.randint(2, 6)))}\n"
                    for _ in range(min(100_000, lines - start))
                )
            )


def engine_speed(model_dir: Path, sentences: list[str]) -> dict[str, float]:
    """Seconds the NumPy engine takes in process: the whole predict_proba, and its encode and forward pass."""
    from sentiment_rnn.artifact.engine_files import load_engine

    engine = load_engine(model_dir)
    engine.predict_proba(sentences[:2000])  # warm up: the input tables, threadpoolctl
    start = time.perf_counter()
    engine.predict_proba(sentences)
    whole = time.perf_counter()
    flat, lengths = engine.encode(sentences)
    encoded = time.perf_counter()
    engine.predict_ids(flat, lengths)
    done = time.perf_counter()
    return {"predict_proba": whole - start, "encode": encoded - whole, "forward": done - encoded}


def fasttext_speed(work: Path, sentences: list[str]) -> float:
    """Seconds of fastText's in-process ``predict`` on the sentences (a model trained here for one epoch)."""
    import fasttext

    rng = random.Random(3)
    train_file = work / "fasttext.train"
    train_file.write_text("".join(f"__label__{rng.randint(0, 1)} {s}\n" for s in sentences), encoding="utf-8")
    model = fasttext.train_supervised(input=str(train_file), epoch=1, verbose=0)
    model.predict(sentences[:2000])
    start = time.perf_counter()
    model.predict(sentences)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold runs of each command")
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--memory-lines", type=int, default=1_000_000, help="the small memory run (the large: 10x)")
    parser.add_argument("--stream-tokens", type=int, default=1_000_000)
    parser.add_argument("--imdb", type=Path, default=ROOT.parent / "shared" / "datasets" / "imdb" / "aclImdb_v1.tar.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "inference.md")
    options = parser.parse_args()

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="sentiment-bench-"))
    sentences = generate_sentences(options.sentences)
    sentence_file = work / "sentences.txt"
    sentence_file.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    csv_file = work / "sentences.csv"
    with csv_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(sentences))
    print("models ...", flush=True)
    models = {
        "default (SimpleRNN)": build_model_dir(work / "default", sentences),
        "sst2.toml (bidirectional GRU)": build_model_dir(work / "sst2", sentences, ROOT / "configs" / "sst2.toml"),
    }
    model_dir = models["default (SimpleRNN)"]
    n = len(sentences)

    print("in process ...", flush=True)
    engine = {name: engine_speed(path, sentences) for name, path in models.items()}
    fasttext_seconds = fasttext_speed(work, sentences)
    longer_engine_seconds = engine_speed(models["default (SimpleRNN)"], sentences * 10)["predict_proba"]

    print("whole processes ...", flush=True)
    compile_package()
    whole = {}
    for label, args in (
        ("predict --file", ["--file", str(sentence_file)]),
        ("predict --file --json", ["--file", str(sentence_file), "--json"]),
        (
            "predict --data sentences.csv --output scored.csv",
            ["--data", str(csv_file), "--output", str(work / "s.csv")],
        ),
    ):
        seconds, cpu, rss, stdout = run_process(["predict", "--model", str(model_dir), *args])
        whole[label] = (seconds, cpu, rss, n)
    # The same sentences ten times over: start-up (a fixed cost) weighs a tenth as much in texts/s.
    longer_file = work / "sentences-10x.txt"
    longer_file.write_text(sentence_file.read_text(encoding="utf-8") * 10, encoding="utf-8")
    longer_seconds, cpu, rss, _ = run_process(["predict", "--model", str(model_dir), "--file", str(longer_file)])
    whole[f"predict --file, {10 * n:,} lines (the sentences 10 times)"] = (longer_seconds, cpu, rss, 10 * n)
    longer_file.unlink()
    engine_seconds = engine["default (SimpleRNN)"]["predict_proba"]

    print("cold start ...", flush=True)
    text = "No, this phone is good"
    cold = {"predict": [], "numpy": []}
    for _ in range(options.runs):
        cold["numpy"].append(run_process(["-c", "import numpy"], module=False)[0])
        cold["predict"].append(run_process(["predict", "--model", str(model_dir), text])[0])
    median = {name: statistics.median(times) for name, times in cold.items()}

    print("memory ...", flush=True)
    memory = {}
    for lines in (options.memory_lines, 10 * options.memory_lines):
        path = work / f"lines-{lines}.txt"
        write_labelled_lines(path, lines)
        memory[lines] = {
            "predict --file": run_process(["predict", "--model", str(model_dir), "--file", str(path), "--json"])[:3],
            "evaluate": run_process(
                ["evaluate", "--model", str(model_dir), "--data", str(path), "--format", "label-text"]
            )[:3],
        }
        path.unlink()
    imdb = None
    if options.imdb.exists():
        imdb = run_process(["evaluate", "--model", str(model_dir), "--data", str(options.imdb), "--split", "test"])

    print("--stream ...", flush=True)
    document = work / "document.txt"
    write_document(document, options.stream_tokens)
    stream = run_process(["predict", "--model", str(model_dir), "--stream", str(document), "--chunk-tokens", "1000"])
    load_after = os.getloadavg()

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    shared = max(load_before[0], load_after[0]) > 1.5
    lines = [
        "# Inference speed and memory: the whole process, the engine in process, fastText",
        "",
        f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} CPUs (`nproc`), {cpu} (`lscpu` model name), Python {platform.python_version()}",
        f"- Load average before / after the run: {load_before[0]:.1f} / {load_after[0]:.1f} (1 min)."
        + (
            " The machine was shared with other work during the run: absolute times are inflated, the "
            "side-by-side ratios are the fair comparison."
            if shared
            else ""
        ),
        "- Models: the default config and configs/sst2.toml, random weights, vocabulary adapted on the sentences",
        f"- Command: `python benchmarks/inference.py --runs {options.runs} --sentences {options.sentences} "
        f"--memory-lines {options.memory_lines} --stream-tokens {options.stream_tokens}`",
        "- Whole processes are `python -m sentiment_rnn ...`, timed and measured with `/usr/bin/time -f '%M %U %S'` "
        "(peak resident memory, user + system CPU), with the package's bytecode compiled first (as `pip install` "
        "leaves it); in-process figures use `time.perf_counter` after a warm-up.",
        "",
        f"## The engine in process against fastText: {n:,} generated sentences",
        "",
        "| model | engine `predict_proba` | texts/s | of which encode | forward pass | / fastText |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in engine.items():
        seconds = figures["predict_proba"]
        lines.append(
            f"| {name} | {seconds:.2f} s | {n / seconds:,.0f} | {figures['encode']:.2f} s | {figures['forward']:.2f} s "
            f"| {fasttext_seconds / seconds:.2f}x |"
        )
    lines += [
        f"| fastText supervised (dim 100), `model.predict(list)` | {fasttext_seconds:.2f} s "
        f"| {n / fasttext_seconds:,.0f} | | | 1.00x |",
        "",
        "Target: the default engine at least 2x fastText's texts/s.",
        "",
        f"## Whole processes on the same {n:,} sentences (default model)",
        "",
        "| command | wall | texts/s | CPU | peak memory | / engine in process |",
        "|---|---|---|---|---|---|",
    ]
    for label, (seconds, cpu_seconds, rss, count) in whole.items():
        lines.append(
            f"| `{label}` | {seconds:.2f} s | {count / seconds:,.0f} | {cpu_seconds:.2f} s | {rss:.0f} MB "
            f"| {engine_seconds * count / n / seconds:.2f}x |"
        )
    lines += [
        "",
        f"The engine in process on the {10 * n:,} lines in one call: {longer_engine_seconds:.2f} s "
        f"({10 * n / longer_engine_seconds:,.0f} texts/s); the whole `predict --file` on them is "
        f"{longer_engine_seconds / longer_seconds:.2f}x that.",
        "",
        "Target: every whole process at least 0.8x the engine's texts/s (start-up, reading and writing included).",
        "",
        f'## Cold start: `predict "{text}"` against `python -c "import numpy"`, {options.runs} runs each, alternating',
        "",
        "| command | median | min | max |",
        "|---|---|---|---|",
        *[
            f"| {name} | {median[name]:.3f} s | {min(times):.3f} s | {max(times):.3f} s |"
            for name, times in cold.items()
        ],
        "",
        f"predict / import numpy median: {median['predict'] / median['numpy']:.2f} (target: at most 1.3).",
        "",
        "## Memory: short labelled lines (`1 the battery is good`), `predict --file --json` and `evaluate`",
        "",
        "| lines | command | wall | CPU | peak memory |",
        "|---|---|---|---|---|",
    ]
    for count, commands in memory.items():
        for label, (seconds, cpu_seconds, rss) in commands.items():
            lines.append(f"| {count:,} | `{label}` | {seconds:.1f} s | {cpu_seconds:.1f} s | {rss:.0f} MB |")
    small, large = memory[options.memory_lines], memory[10 * options.memory_lines]
    lines += [
        "",
        "Peak memory, 10x the lines / 1x: "
        + ", ".join(f"`{label}` {large[label][2] / small[label][2]:.3f}" for label in small)
        + " (target: within 10%, at most 1.10).",
        "",
    ]
    if imdb is not None:
        seconds, cpu_seconds, rss, stdout = imdb
        reviews = stdout.split()[1]
        lines += [
            f"`evaluate --data aclImdb_v1.tar.gz --split test` ({reviews} reviews): {seconds:.1f} s wall, "
            f"{cpu_seconds:.1f} s CPU, {rss:.0f} MB peak memory (target: under 500 MB).",
            "",
        ]
    seconds, cpu_seconds, rss, _ = stream
    lines += [
        f"`predict --stream` of {options.stream_tokens:,} tokens: {seconds:.1f} s, "
        f"{options.stream_tokens / seconds:,.0f} tokens/s, {rss:.0f} MB peak memory.",
        "",
    ]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
