"""Accuracy of sentiment-rnn against the peers a user would pick instead, on SST-2, MR and IMDB.

Trains and evaluates, in one run, our configs and the peers (scikit-learn
bag of words + LogisticRegression, TF-IDF 1-2 grams + LogisticRegression,
fastText supervised, VADER) on the splits fixed by ../shared/datasets/README.md:

    sst2  train on GLUE train.tsv (phrases included), report on GLUE dev.tsv
    mr    rt-polarity.pos then .neg concatenated; example i is test when i % 10 == 0
    imdb  train/ -> test/ of aclImdb_v1.tar.gz, read without unpacking; <br /> -> space

Every result (one dataset, one system, one seed) is stored in
benchmarks/results/accuracy.json, replacing an earlier result with the same key, and
benchmarks/results/accuracy.md is re-rendered from all stored results, so parts
can be run separately:

    python benchmarks/accuracy.py --datasets sst2,mr --seeds 1
    python benchmarks/accuracy.py --datasets imdb --seeds 1,2,3 --peers none

Peers need the bench extra: pip install -e '.[bench]'. Run from the repository root.
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
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sentiment_rnn.config import load_config  # noqa: E402
from sentiment_rnn.data.dataset import Dataset  # noqa: E402
from sentiment_rnn.data.formats import read_dataset  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = ("sst2", "mr", "imdb")
PEERS = ("bow-lr", "tfidf-lr", "fasttext", "vader")
# Our configs per dataset (files under configs/, by stem); each is reported as "ours: STEM.toml".
OURS = {
    "sst2": ("default", "sst2-simple", "sst2"),
    "mr": ("default", "mr"),
    "imdb": ("imdb",),
}
DATASET_TITLES = {
    "sst2": "SST-2 (GLUE train -> GLUE dev)",
    "mr": "MR (i % 10 == 0 is test)",
    "imdb": "IMDB (train/ -> test/)",
}


@dataclass
class Outcome:
    accuracy: float
    train_seconds: float
    predict_seconds: float
    n_test: int
    detail: str = ""


def load_split(name: str, data_dir: Path) -> tuple[Dataset, Dataset]:
    """(train, test) for one dataset, by the protocol of the datasets README."""
    if name == "sst2":
        return read_dataset(data_dir / "sst2" / "train.tsv"), read_dataset(data_dir / "sst2" / "dev.tsv")
    if name == "mr":
        both = read_dataset(
            pos=data_dir / "mr" / "rt-polarity.pos", neg=data_dir / "mr" / "rt-polarity.neg", encoding="cp1252"
        )
        if both.skipped:
            raise SystemExit("MR has blank lines: the i % 10 protocol counts every line; fix the reader first.")
        index = np.arange(len(both))
        test = index % 10 == 0
        pick = lambda mask: Dataset([both.texts[i] for i in index[mask]], both.labels[mask], both.source)  # noqa: E731
        return pick(~test), pick(test)
    if name == "imdb":
        tarball = data_dir / "imdb" / "aclImdb_v1.tar.gz"
        return read_dataset(tarball, split="train"), read_dataset(tarball, split="test")
    raise SystemExit(f"unknown dataset {name!r}: choose from {', '.join(DATASETS)}")


def run_ours(stem: str, seed: int, train: Dataset, test: Dataset) -> Outcome:
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.evaluation import evaluate
    from sentiment_rnn.training.run import train as train_model

    config = load_config(ROOT / "configs" / f"{stem}.toml", [f"train.seed={seed}"])
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = train_model(config, Path(tmp) / "model", dataset=train, verbose=0)
        train_seconds = time.perf_counter() - started
        directory = open_model_dir(Path(tmp) / "model")
        directory.numpy_engine  # load the weights evaluate predicts with (the NumPy engine) before timing  # noqa: B018
        started = time.perf_counter()
        evaluation = evaluate(directory, test)
        predict_seconds = time.perf_counter() - started
    detail = f"best epoch {result.best_epoch} of {result.epochs_run}"
    return Outcome(evaluation.accuracy, train_seconds, predict_seconds, len(test), detail)


def run_sklearn(vectorizer_factory: Callable, train: Dataset, test: Dataset) -> Outcome:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(vectorizer_factory(), LogisticRegression(max_iter=2000))
    started = time.perf_counter()
    model.fit(train.texts, train.labels)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = model.predict(test.texts)
    predict_seconds = time.perf_counter() - started
    return Outcome(float(np.mean(predicted == test.labels)), train_seconds, predict_seconds, len(test))


def bow_lr(train: Dataset, test: Dataset, seed: int) -> Outcome:
    from sklearn.feature_extraction.text import CountVectorizer

    return run_sklearn(lambda: CountVectorizer(binary=True), train, test)


def tfidf_lr(train: Dataset, test: Dataset, seed: int) -> Outcome:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return run_sklearn(lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), train, test)


FASTTEXT_SETTINGS = ((0.1, 50), (0.5, 25), (1.0, 10))  # (lr, epoch), the datasets README's grid


def fasttext_supervised(train: Dataset, test: Dataset, seed: int) -> Outcome:
    """fastText with wordNgrams 2; lr/epoch chosen on a seeded 10% of train, then refit on all of train."""
    import fasttext

    def clean(text: str) -> str:
        return " ".join(text.lower().split())

    def fit(dataset: Dataset, lr: float, epoch: int):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as handle:
            for text, label in zip(dataset.texts, dataset.labels):
                handle.write(f"__label__{label} {clean(text)}\n")
        try:
            return fasttext.train_supervised(
                handle.name, lr=lr, epoch=epoch, wordNgrams=2, seed=seed, thread=2, verbose=0
            )
        finally:
            os.unlink(handle.name)

    def accuracy(model, dataset: Dataset) -> float:
        labels, _ = model.predict([clean(t) for t in dataset.texts])
        return float(np.mean([int(label[0][-1]) for label in labels] == dataset.labels))

    started = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(train))
    held = order[: len(train) // 10]
    kept = order[len(train) // 10 :]
    subset = lambda idx: Dataset([train.texts[i] for i in idx], train.labels[idx], train.source)  # noqa: E731
    scores = {setting: accuracy(fit(subset(kept), *setting), subset(held)) for setting in FASTTEXT_SETTINGS}
    lr, epoch = max(FASTTEXT_SETTINGS, key=lambda setting: scores[setting])
    model = fit(train, lr, epoch)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    test_accuracy = accuracy(model, test)
    predict_seconds = time.perf_counter() - started
    return Outcome(
        test_accuracy, train_seconds, predict_seconds, len(test), f"lr {lr}, epoch {epoch} (chosen on 10% of train)"
    )


def vader(train: Dataset, test: Dataset, seed: int) -> Outcome:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    predicted = np.array([analyzer.polarity_scores(text)["compound"] >= 0 for text in test.texts], dtype=int)
    predict_seconds = time.perf_counter() - started
    return Outcome(float(np.mean(predicted == test.labels)), 0.0, predict_seconds, len(test), "rule based, no training")


PEER_RUNNERS = {
    "bow-lr": ("unigram binary BoW + LogisticRegression", bow_lr),
    "tfidf-lr": ("TF-IDF 1-2 grams + LogisticRegression", tfidf_lr),
    "fasttext": ("fastText supervised, wordNgrams 2", fasttext_supervised),
    "vader": ("VADER (compound >= 0)", vader),
}


def machine() -> dict:
    model_name = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model_name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    load = round(os.getloadavg()[0], 1)  # the machine is shared: a load above nproc slows every timing
    return {"nproc": os.cpu_count(), "cpu": model_name, "python": platform.python_version(), "load": load}


def load_results(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"results": [], "runs": []}


def store(results: dict, record: dict) -> None:
    key = (record["dataset"], record["system"], record["seed"])
    results["results"] = [r for r in results["results"] if (r["dataset"], r["system"], r["seed"]) != key]
    results["results"].append(record)


def render(results: dict) -> str:
    lines = [
        "# Accuracy against the peers",
        "",
        "Generated by `benchmarks/accuracy.py` from `accuracy.json` (all recorded runs). Accuracy is the mean over",
        "the seeds listed (± standard deviation when more than one). Train time is wall seconds for the whole fit",
        "(ours: including early stopping on a 10% validation split of train); predict throughput is test texts",
        "per second, model already loaded. Datasets: SST-2 (Socher et al. 2013; GLUE, Wang et al. 2019),",
        "MR (Pang & Lee 2005), IMDB (Maas et al. 2011); splits as in `../shared/datasets/README.md`.",
        "",
        "## Runs",
        "",
    ]
    for run in results["runs"]:
        m = run["machine"]
        load = f", load average {m['load']} at start" if "load" in m else ""
        lines.append(
            f"- {run['date']}: `{run['command']}` on {m['nproc']} cores ({m['cpu']}), Python {m['python']}{load}"
        )
    for dataset in DATASETS:
        rows = [r for r in results["results"] if r["dataset"] == dataset]
        if not rows:
            continue
        lines += ["", f"## {DATASET_TITLES[dataset]}", ""]
        lines += [
            "| system | accuracy | seeds | train (s) | predict (texts/s) | notes |",
            "|---|---|---|---|---|---|",
        ]
        systems = sorted({r["system"] for r in rows}, key=lambda s: (not s.startswith("ours"), s))
        for system in systems:
            runs = sorted((r for r in rows if r["system"] == system), key=lambda r: r["seed"])
            accuracies = np.array([r["accuracy"] for r in runs])
            accuracy = f"{accuracies.mean():.4f}" + (f" ± {accuracies.std(ddof=1):.4f}" if len(runs) > 1 else "")
            train = np.mean([r["train_seconds"] for r in runs])
            throughput = np.mean([r["n_test"] / r["predict_seconds"] for r in runs if r["predict_seconds"] > 0])
            seeds = ",".join(str(r["seed"]) for r in runs)
            notes = "; ".join(dict.fromkeys(r["detail"] for r in runs if r["detail"]))
            lines.append(f"| {system} | {accuracy} | {seeds} | {train:.1f} | {throughput:,.0f} | {notes} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- generated by benchmarks/accuracy.py: begin -->", "<!-- generated by benchmarks/accuracy.py: end -->"


def write_markdown(path: Path, generated: str) -> None:
    """Write the generated tables between the markers, keeping any hand-written text around them."""
    block = f"{BEGIN}\n{generated}{END}\n"
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + block + ("\n" + after if after else "")
    else:
        text = block
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sst2,mr,imdb", help="comma-separated: sst2, mr, imdb")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds for our models (peers: first seed)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated: {', '.join(PEERS)}; or none")
    parser.add_argument("--ours", default="all", help="comma-separated config stems (e.g. sst2,default), all or none")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--results", type=Path, default=RESULTS / "accuracy.json")
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    peers = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    for peer in peers:
        if peer not in PEER_RUNNERS:
            parser.error(f"unknown peer {peer!r}: choose from {', '.join(PEERS)}")

    run = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", "benchmarks/accuracy.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)

    def save(record: dict) -> None:
        """Merge one result into the results file, re-read each time so that parts can run side by side."""
        results = load_results(args.results)
        if run not in results["runs"]:
            results["runs"].append(run)
        store(results, record)
        print(json.dumps(record), flush=True)
        args.results.write_text(json.dumps(results, indent=1) + "\n")
        write_markdown(args.results.with_suffix(".md"), render(results))

    for dataset in datasets:
        train, test = load_split(dataset, args.data_dir)
        print(f"{dataset}: {len(train)} train, {len(test)} test", flush=True)
        for peer in peers:
            title, runner = PEER_RUNNERS[peer]
            outcome = runner(train, test, seeds[0])
            save({"dataset": dataset, "system": title, "seed": seeds[0], **outcome.__dict__})
        for stem in OURS[dataset]:
            if args.ours != "all" and stem not in args.ours.split(","):
                continue
            for seed in seeds:
                outcome = run_ours(stem, seed, train, test)
                save({"dataset": dataset, "system": f"ours: {stem}.toml", "seed": seed, **outcome.__dict__})


if __name__ == "__main__":
    main()
