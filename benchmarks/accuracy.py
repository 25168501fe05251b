"""Accuracy of sentiment-rnn against the peers a user would pick instead, on SST-2, MR, IMDB, SST-5 and SemEval.

Trains and evaluates, in one run, our configs and the peers (scikit-learn
bag of words + LogisticRegression, TF-IDF 1-2 grams + LogisticRegression,
fastText supervised, VADER) on the splits fixed by ../shared/datasets/README.md:

    sst2  train on GLUE train.tsv (phrases included), report on GLUE dev.tsv
    sst2s train on stsa.binary.train (ours stop early on stsa.binary.dev), report on stsa.binary.test
    mr    rt-polarity.pos then .neg concatenated; example i is test when i % 10 == 0
    imdb  train/ -> test/ of aclImdb_v1.tar.gz, read without unpacking; <br /> -> space
    sst5  five classes: train on stsa.fine.train (ours stop early on stsa.fine.dev), report on stsa.fine.test
    semeval  SemEval-2017 Task 4A, three classes: train on train.tsv, report on test.tsv; its official
          measure is the average recall over the three classes (also: accuracy, F1 of positive and negative)

On the datasets of more than two classes the peers are multinomial: LogisticRegression over all
classes, fastText with one label per class; VADER, a positive/negative rule, is left out.

Every result (one dataset, one system, one seed) is stored in
benchmarks/results/accuracy.json, replacing an earlier result with the same key, and
benchmarks/results/accuracy.md is re-rendered from all stored results, so parts
can be run separately:

    python benchmarks/accuracy.py --datasets sst2,mr --seeds 1
    python benchmarks/accuracy.py --datasets imdb --seeds 1,2,3 --peers none
    python benchmarks/accuracy.py --datasets sst2 --ours sst2 --peers none --set train.ema=0.999

``--set`` changes a key of every config of ours in the run (a means measured
without a new config file); the rows are named after the config and the keys,
e.g. "ours: sst2.toml, train.ema=0.999".

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
from sentiment_rnn.data.labels import predicted_classes  # noqa: E402
from sentiment_rnn.evaluation.class_metrics import class_metrics  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = ("sst2", "sst2s", "mr", "imdb", "sst5", "semeval")
MAIN_MEASURE = {"semeval": "average_recall"}  # what a dataset is ranked by (accuracy unless named here)
PEERS = ("bow-lr", "tfidf-lr", "fasttext", "vader")
# Our configs per dataset (files under configs/, by stem); each is reported as "ours: STEM.toml".
OURS = {
    "sst2": (
        "default",
        "sst2-simple",
        "sst2",
        "sst2-simple-hybrid",
        "sst2-hybrid",
        "sst2-ensemble",
        "sst2-simple-ensemble",
    ),
    "sst2s": ("sst2-sentences",),
    "mr": ("default", "mr", "mr-hybrid"),
    "imdb": ("imdb", "imdb-hybrid"),
    "sst5": ("sst5",),
    "semeval": ("semeval",),
}
DATASET_TITLES = {
    "sst2": "SST-2 (GLUE train -> GLUE dev)",
    "sst2s": "SST-2 sentences (stsa.binary.train -> stsa.binary.test; ours stop early on stsa.binary.dev)",
    "mr": "MR (i % 10 == 0 is test)",
    "imdb": "IMDB (train/ -> test/)",
    "sst5": "SST-5, five classes (stsa.fine.train -> stsa.fine.test; ours stop early on stsa.fine.dev)",
    "semeval": "SemEval-2017 Task 4A, three classes (train.tsv -> test.tsv; ranked by average recall)",
}


@dataclass
class Outcome:
    accuracy: float
    train_seconds: float
    predict_seconds: float
    n_test: int
    detail: str = ""
    cad_pairs: float | None = None  # IMDB: share of the CAD dev pairs with both reviews right
    member_accuracies: list[float] | None = None  # an ensemble: each member's accuracy alone, in order
    average_recall: float | None = None  # more than two classes: the mean of the classes' recalls
    macro_f1: float | None = None  # more than two classes: the mean of the classes' F1
    f1_pn: float | None = None  # SemEval: the mean F1 of positive and negative (the task's second measure)
    member_scores: list[float] | None = None  # an ensemble: each member's main measure alone, in order


@dataclass
class Pairs:
    """The counterfactual pairs of ``cad/dev_paired.tsv``: the reviews and each one's ``batch_id`` (two a pair)."""

    dataset: Dataset
    ids: np.ndarray  # (n,)

    def both_right(self, probabilities: np.ndarray) -> float:
        """Share of pairs whose two reviews are both classified right, from P(positive) (n,)."""
        right = (probabilities >= 0.5) == self.dataset.labels
        order = np.argsort(self.ids, kind="stable")
        _, starts = np.unique(self.ids[order], return_index=True)
        return float(np.mean(np.logical_and.reduceat(right[order], starts)))


def load_pairs(data_dir: Path) -> Pairs:
    """CAD's dev pairs (Kaushik et al. 2020): an IMDB review and its minimally edited, flipped twin."""
    import pandas as pd

    path = data_dir / "cad" / "dev_paired.tsv"
    dataset = read_dataset(path, format="tsv", text_column="Text", label_column="Sentiment")
    ids = pd.read_csv(path, sep="\t")["batch_id"].to_numpy()
    if len(ids) != len(dataset):
        raise SystemExit(f"{path}: {len(dataset)} rows read but {len(ids)} batch ids; the pairs do not line up.")
    return Pairs(dataset, ids)


def load_split(name: str, data_dir: Path) -> tuple[Dataset, Dataset, Dataset | None]:
    """(train, test, validation or None) for one dataset, by the protocol of the datasets README.

    With a validation set, ours stop early on it; without, on a seeded 10% of train.
    """
    if name == "sst2":
        return read_dataset(data_dir / "sst2" / "train.tsv"), read_dataset(data_dir / "sst2" / "dev.tsv"), None
    if name == "sst2s":
        train, dev, test = (
            read_dataset(data_dir / "sst2" / f"stsa.binary.{part}") for part in ("train", "dev", "test")
        )
        return train, test, dev
    if name == "mr":
        both = read_dataset(
            pos=data_dir / "mr" / "rt-polarity.pos", neg=data_dir / "mr" / "rt-polarity.neg", encoding="cp1252"
        )
        if both.skipped:
            raise SystemExit("MR has blank lines: the i % 10 protocol counts every line; fix the reader first.")
        index = np.arange(len(both))
        test = index % 10 == 0
        pick = lambda mask: Dataset([both.texts[i] for i in index[mask]], both.labels[mask], both.source)  # noqa: E731
        return pick(~test), pick(test), None
    if name == "imdb":
        tarball = data_dir / "imdb" / "aclImdb_v1.tar.gz"
        return read_dataset(tarball, split="train"), read_dataset(tarball, split="test"), None
    if name == "sst5":  # labels 0 (very negative) to 4 (very positive): five classes in numeric order
        train, dev, test = (read_dataset(data_dir / "sst5" / f"stsa.fine.{part}") for part in ("train", "dev", "test"))
        return train, test.with_classes(train.classes), dev.with_classes(train.classes)
    if name == "semeval":  # negative, neutral, positive
        train = read_dataset(data_dir / "semeval2017" / "train.tsv")
        return train, read_dataset(data_dir / "semeval2017" / "test.tsv").with_classes(train.classes), None
    raise SystemExit(f"unknown dataset {name!r}: choose from {', '.join(DATASETS)}")


def run_ours(
    stem: str,
    seed: int,
    train: Dataset,
    test: Dataset,
    validation: Dataset | None = None,
    pairs: Pairs | None = None,
    overrides: tuple[str, ...] = (),
    measure: str = "accuracy",
) -> Outcome:
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.evaluation import evaluate
    from sentiment_rnn.inference import predict_proba
    from sentiment_rnn.training.run import train as train_model

    config = load_config(ROOT / "configs" / f"{stem}.toml", [*overrides, f"train.seed={seed}"])
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = train_model(config, Path(tmp) / "model", dataset=train, verbose=0, validation=validation)
        train_seconds = time.perf_counter() - started
        directory = open_model_dir(Path(tmp) / "model")
        directory.numpy_engine  # load the weights evaluate predicts with (the NumPy engine) before timing  # noqa: B018
        started = time.perf_counter()
        evaluation = evaluate(directory, test)
        predict_seconds = time.perf_counter() - started
        cad_pairs = None if pairs is None else pairs.both_right(predict_proba(directory, pairs.dataset.texts))
        # An ensemble's members, each alone on the same test set: what the mean of their probabilities adds.
        alone = [evaluate(member, test) for member in directory.members]
    members = [member.accuracy for member in alone]
    if members:
        best = ", ".join(str(best) for best, _ in result.member_epochs)
        detail = f"best epochs {best}; members alone {', '.join(f'{a:.4f}' for a in members)}"
    else:
        detail = f"best epoch {result.best_epoch} of {result.epochs_run}"
    outcome = Outcome(
        evaluation.accuracy, train_seconds, predict_seconds, len(test), detail, cad_pairs, members or None
    )
    if len(test.classes) > 2:
        with_classes(outcome, evaluation)
        outcome.member_scores = [main_measure(measure, member) for member in alone] or None
    return outcome


def with_classes(outcome: Outcome, evaluation) -> None:
    """Fill ``outcome``'s figures of more than two classes from a ``class_metrics.ClassEvaluation``."""
    outcome.average_recall = evaluation.average_recall
    outcome.macro_f1 = evaluation.macro_f1
    if {"positive", "negative"} <= set(evaluation.classes):
        outcome.f1_pn = (evaluation.per_class["positive"]["f1"] + evaluation.per_class["negative"]["f1"]) / 2


def main_measure(measure: str, evaluation) -> float:
    """The figure ``measure`` (``MAIN_MEASURE``'s: ``accuracy`` or ``average_recall``) of one evaluation."""
    return getattr(evaluation, measure)


class Peer:
    """A fitted peer: ``probabilities(texts)`` gives P(positive) per text, shape (n,) (for N > 2 classes the
    probability of each class, (n, N), columns in class order); ``detail`` says how it was set."""

    def __init__(self, probabilities: Callable[[list[str]], np.ndarray], train_seconds: float, detail: str = ""):
        self.probabilities = probabilities
        self.train_seconds = train_seconds
        self.detail = detail


def fit_sklearn(vectorizer, train: Dataset) -> Peer:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(vectorizer, LogisticRegression(max_iter=2000))  # multinomial for more than two classes
    started = time.perf_counter()
    model.fit(train.texts, train.labels)
    if len(train.classes) > 2:  # its columns are the classes 0 .. N-1 in order
        return Peer(lambda texts: model.predict_proba(texts), time.perf_counter() - started, "multinomial")
    return Peer(lambda texts: model.predict_proba(texts)[:, 1], time.perf_counter() - started)


def fit_bow_lr(train: Dataset, seed: int, measure: str = "accuracy") -> Peer:
    from sklearn.feature_extraction.text import CountVectorizer

    return fit_sklearn(CountVectorizer(binary=True), train)


def fit_tfidf_lr(train: Dataset, seed: int, measure: str = "accuracy") -> Peer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return fit_sklearn(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), train)


FASTTEXT_SETTINGS = ((0.1, 50), (0.5, 25), (1.0, 10))  # (lr, epoch), the datasets README's grid


def fit_fasttext(train: Dataset, seed: int, measure: str = "accuracy") -> Peer:
    """fastText with wordNgrams 2; lr/epoch chosen on a seeded 10% of train (by ``measure``), then refit on all."""
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

    classes = len(train.classes)

    def positive_probability(model, texts: list[str]) -> np.ndarray:
        if classes > 2:  # every class's probability, (n, N), one text at a time
            table = np.zeros((len(texts), classes))
            for row, text in enumerate(texts):
                # model.f.predict: fasttext-wheel's predict() fails on a single text under numpy 2
                for probability, label in model.f.predict(clean(text) + "\n", classes, 0.0, "strict"):
                    table[row, int(label.removeprefix("__label__"))] = min(max(probability, 0.0), 1.0)
            return table
        # k=1: fasttext-wheel's k=2 answers repeat the first probability under numpy 2
        labels, probabilities = model.predict([clean(t) for t in texts], k=1)
        top = np.clip(np.array([p[0] for p in probabilities], dtype=np.float64), 0.0, 1.0)
        return np.where([label[0] == "__label__1" for label in labels], top, 1.0 - top)

    def accuracy(model, dataset: Dataset) -> float:
        """The dataset's main measure (accuracy, or SemEval's average recall) on the held-out tenth."""
        probabilities = positive_probability(model, dataset.texts)  # two classes: (n,) of positive; else (n, N)
        if classes == 2:
            return float(np.mean(predicted_classes(probabilities) == dataset.labels))
        return main_measure(measure, class_metrics(dataset.labels, probabilities, train.classes))

    started = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(train))
    held = order[: len(train) // 10]
    kept = order[len(train) // 10 :]
    subset = lambda idx: Dataset(  # noqa: E731
        [train.texts[i] for i in idx], train.labels[idx], train.source, classes=train.classes
    )
    scores = {setting: accuracy(fit(subset(kept), *setting), subset(held)) for setting in FASTTEXT_SETTINGS}
    lr, epoch = max(FASTTEXT_SETTINGS, key=lambda setting: scores[setting])
    model = fit(train, lr, epoch)
    return Peer(
        lambda texts: positive_probability(model, texts),
        time.perf_counter() - started,
        f"lr {lr}, epoch {epoch} (chosen on 10% of train)",
    )


def fit_vader(train: Dataset, seed: int, measure: str = "accuracy") -> Peer:
    """VADER needs no training: P(positive) is (compound + 1) / 2, so 0.5 is its usual compound >= 0 rule."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return Peer(
        lambda texts: np.array([(analyzer.polarity_scores(t)["compound"] + 1) / 2 for t in texts]),
        0.0,
        "rule based, no training",
    )


def peer_outcome(
    fitter: Callable[..., Peer],
    train: Dataset,
    test: Dataset,
    seed: int,
    pairs: Pairs | None = None,
    measure: str = "accuracy",
) -> Outcome:
    """Fit one peer on ``train`` and measure its accuracy on ``test`` (and on ``pairs``, if given)."""
    peer = fitter(train, seed, measure)
    started = time.perf_counter()
    probabilities = peer.probabilities(test.texts)
    predict_seconds = time.perf_counter() - started
    accuracy = float(np.mean(predicted_classes(probabilities) == test.labels))
    cad_pairs = None if pairs is None else pairs.both_right(peer.probabilities(pairs.dataset.texts))
    outcome = Outcome(accuracy, peer.train_seconds, predict_seconds, len(test), peer.detail, cad_pairs)
    if len(test.classes) > 2:
        with_classes(outcome, class_metrics(test.labels, probabilities, test.classes))
    return outcome


PEER_FITTERS = {
    "bow-lr": ("unigram binary BoW + LogisticRegression", fit_bow_lr),
    "tfidf-lr": ("TF-IDF 1-2 grams + LogisticRegression", fit_tfidf_lr),
    "fasttext": ("fastText supervised, wordNgrams 2", fit_fasttext),
    "vader": ("VADER (compound >= 0)", fit_vader),
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


def render(results: dict, source: str = "accuracy.json") -> str:
    lines = [
        "# Accuracy against the peers",
        "",
        f"Generated by `benchmarks/accuracy.py` from `{source}` (all recorded runs). Accuracy is the mean over",
        "the seeds listed (± standard deviation when more than one). Train time is wall seconds for the whole fit",
        "(ours: including early stopping on a 10% validation split of train); predict throughput is test texts",
        "per second, model already loaded. Datasets: SST-2 (Socher et al. 2013; GLUE, Wang et al. 2019),",
        "MR (Pang & Lee 2005), IMDB (Maas et al. 2011), SST-5 (Socher et al. 2013), SemEval-2017 Task 4A",
        "(Rosenthal et al. 2017); splits as in `../shared/datasets/README.md`. Average recall and macro F1 are",
        "the unweighted means over the classes of their recall and F1.",
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
        with_pairs = any(r.get("cad_pairs") is not None for r in rows)
        lines += ["", f"## {DATASET_TITLES[dataset]}", ""]
        if with_pairs:
            lines += [
                "CAD pairs: share of the pairs of `cad/dev_paired.tsv` (a review and its minimally edited,",
                "flipped twin; Kaushik et al. 2020) with both reviews right, by the same model trained on IMDB.",
                "",
            ]
        measures = [("accuracy", "accuracy")]  # (key, column): more for datasets of more than two classes
        if any(r.get("average_recall") is not None for r in rows):
            measures += [("average_recall", "average recall"), ("macro_f1", "macro F1")]
        if any(r.get("f1_pn") is not None for r in rows):
            measures.append(("f1_pn", "F1 of pos. and neg."))
        lines += [
            "| system | "
            + "".join(f"{column} | " for _, column in measures)
            + "seeds | train (s) | predict (texts/s) | "
            + ("CAD pairs | " if with_pairs else "")
            + "notes |",
            "|---|" + "---|" * len(measures) + "---|---|---|---|" + ("---|" if with_pairs else ""),
        ]
        systems = sorted({r["system"] for r in rows}, key=lambda s: (not s.startswith("ours"), s))
        for system in systems:
            runs = sorted((r for r in rows if r["system"] == system), key=lambda r: r["seed"])
            accuracy = " | ".join(spread([r.get(key) for r in runs]) for key, _ in measures)
            train = np.mean([r["train_seconds"] for r in runs])
            throughput = np.mean([r["n_test"] / r["predict_seconds"] for r in runs if r["predict_seconds"] > 0])
            seeds = ",".join(str(r["seed"]) for r in runs)
            notes = "; ".join(dict.fromkeys(r["detail"] for r in runs if r["detail"]))
            members = [a for r in runs for a in r.get("member_scores") or r.get("member_accuracies") or ()]
            if members:  # an ensemble: how its members do alone (by the dataset's measure), over every seed's
                measure = MAIN_MEASURE.get(dataset, "accuracy").replace("_", " ")
                notes = (
                    f"its {len(members)} members alone: {measure} {np.mean(members):.4f} ± "
                    f"{np.std(members, ddof=1):.4f} ({min(members):.4f}-{max(members):.4f})"
                )
            pairs = [r["cad_pairs"] for r in runs if r.get("cad_pairs") is not None]
            pair_cell = (f"{np.mean(pairs):.4f} | " if pairs else " | ") if with_pairs else ""
            lines.append(f"| {system} | {accuracy} | {seeds} | {train:.1f} | {throughput:,.0f} | {pair_cell}{notes} |")
    return "\n".join(lines) + "\n"


def spread(values: list) -> str:
    """``mean ± standard deviation`` of the seeds' values (the mean alone for one seed); "" when none is known."""
    values = np.array([value for value in values if value is not None], dtype=np.float64)
    if not len(values):
        return ""
    return f"{values.mean():.4f}" + (f" ± {values.std(ddof=1):.4f}" if len(values) > 1 else "")


def write_markdown(path: Path, generated: str, generator: str = "benchmarks/accuracy.py") -> None:
    """Write the generated tables between the markers, keeping any hand-written text around them."""
    begin, end = f"<!-- generated by {generator}: begin -->", f"<!-- generated by {generator}: end -->"
    block = f"{begin}\n{generated}{end}\n"
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + block + ("\n" + after if after else "")
    else:
        text = block
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="sst2,mr,imdb", help="comma-separated: sst2, mr, imdb")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds for our models (peers: first seed)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated: {', '.join(PEERS)}; or none")
    parser.add_argument(
        "--ours",
        default="all",
        help="comma-separated config stems run on every dataset named (e.g. finetune,default); all: each dataset's "
        "own configs; none",
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="config key for ours"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--results", type=Path, default=RESULTS / "accuracy.json")
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    peers = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    for peer in peers:
        if peer not in PEER_FITTERS:
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
        write_markdown(args.results.with_suffix(".md"), render(results, args.results.name))

    for dataset in datasets:
        train, test, validation = load_split(dataset, args.data_dir)
        pairs = load_pairs(args.data_dir) if dataset == "imdb" else None
        measure = MAIN_MEASURE.get(dataset, "accuracy")
        print(f"{dataset}: {len(train)} train, {len(test)} test", flush=True)
        for peer in peers:
            title, fitter = PEER_FITTERS[peer]
            if peer == "vader" and len(train.classes) > 2:
                continue  # a positive/negative rule: no peer for more classes
            outcome = peer_outcome(fitter, train, test, seeds[0], pairs, measure)
            save({"dataset": dataset, "system": title, "seed": seeds[0], **outcome.__dict__})
        for stem in OURS[dataset] if args.ours == "all" else [s for s in args.ours.split(",") if s != "none"]:
            for seed in seeds:
                outcome = run_ours(stem, seed, train, test, validation, pairs, tuple(args.overrides), measure)
                system = ", ".join([f"ours: {stem}.toml", *args.overrides])
                save({"dataset": dataset, "system": system, "seed": seed, **outcome.__dict__})


if __name__ == "__main__":
    main()
