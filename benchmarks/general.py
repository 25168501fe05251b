"""The bundled reviews-en model against peers trained on the same union of training splits, on every clean test split.

Two kinds of comparison, each measured side by side in one run and stored in
benchmarks/results/general.json (benchmarks/results/general.md is re-rendered from it):

    in-domain   the bundled model (or --model DIR), and TF-IDF 1-2 grams + LogisticRegression and fastText
                fitted on the union that configs/reviews-en.toml reads, and VADER, on SST-2 GLUE dev,
                SST-2 stsa.binary.test, MR i % 10 == 0, IMDB test/ and CAD dev_paired.tsv
    holdout     one training source left out of that union for every system, ours retrained by the same
                config, tested on the source left out (amazon-mds: books + dvd; imdb: IMDB test/, with CAD
                left out too, since most of CAD's reviews are IMDB train reviews)

Accuracy, ECE (10 equal-width bins) and Brier score for every system; CAD pair consistency (both
reviews of a pair right) on CAD. Run from the repository root, with the bench extra installed:

    python benchmarks/general.py                      # in-domain, the bundled model
    python benchmarks/general.py --part holdout-amazon-mds
    python benchmarks/general.py --part holdout-imdb
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import (  # noqa: E402
    DEFAULT_DATA,
    RESULTS,
    ROOT,
    Pairs,
    Peer,
    fit_fasttext,
    fit_tfidf_lr,
    fit_vader,
    load_pairs,
    load_split,
    machine,
    write_markdown,
)

from sentiment_rnn.calibration import brier_score, expected_calibration_error  # noqa: E402
from sentiment_rnn.config import load_config  # noqa: E402
from sentiment_rnn.data.dataset import Dataset  # noqa: E402
from sentiment_rnn.data.formats import dataset_from_config, read_dataset  # noqa: E402
from sentiment_rnn.data.sources import join  # noqa: E402

CONFIG = ROOT / "configs" / "reviews-en.toml"
BUNDLED = ROOT / "sentiment_rnn" / "bundled" / "reviews-en"
PEERS = {
    "TF-IDF 1-2 grams + LogisticRegression": fit_tfidf_lr,
    "fastText supervised, wordNgrams 2": fit_fasttext,
    "VADER (compound >= 0)": fit_vader,
}
TEST_SPLITS = ("sst2-dev", "sst2-test", "mr-test", "imdb-test", "cad-dev")
TITLES = {
    "sst2-dev": "SST-2 GLUE dev.tsv",
    "sst2-test": "SST-2 stsa.binary.test",
    "mr-test": "MR, i % 10 == 0",
    "imdb-test": "IMDB test/",
    "cad-dev": "CAD dev_paired.tsv",
    "amazon-mds": "Amazon books + dvd",
}
# Holdout name: (the path fragments of the sources left out of training, the test split)
HOLDOUTS = {
    "amazon-mds": (("amazon-mds/",), "amazon-mds"),
    "imdb": (("imdb/", "cad/"), "imdb-test"),
}
PARTS = ("in-domain", *(f"holdout-{name}" for name in HOLDOUTS))
ECE_TARGET = 0.05


@dataclasses.dataclass
class Split:
    dataset: Dataset
    pairs: np.ndarray | None = None  # CAD: the batch_id of each row, shape (n,); two rows share one id


def read_split(name: str, data_dir: Path) -> Split:
    """One clean test split, read as the datasets README prescribes."""
    if name == "sst2-dev":
        return Split(read_dataset(data_dir / "sst2" / "dev.tsv"))
    if name == "sst2-test":
        return Split(read_dataset(data_dir / "sst2" / "stsa.binary.test"))
    if name == "mr-test":
        return Split(load_split("mr", data_dir)[1])
    if name == "imdb-test":
        return Split(read_dataset(data_dir / "imdb" / "aclImdb_v1.tar.gz", split="test"))
    if name == "cad-dev":
        cad = load_pairs(data_dir)
        return Split(cad.dataset, cad.ids)
    if name == "amazon-mds":
        return Split(join([read_dataset(data_dir / "amazon-mds" / f"{domain}.tsv") for domain in ("books", "dvd")]))
    raise SystemExit(f"unknown split {name!r}")


def pair_consistency(split: Split, probabilities: np.ndarray) -> float | None:
    """Share of CAD pairs whose two rows are both classified right; None for splits without pairs."""
    return None if split.pairs is None else Pairs(split.dataset, split.pairs).both_right(probabilities)


def ours(model_dir: Path) -> Peer:
    """The model in ``model_dir`` as a peer: P(positive) from the NumPy engine, as `predict` answers."""
    from sentiment_rnn import inference
    from sentiment_rnn.artifact.model_directory import open_model_dir

    directory = open_model_dir(model_dir)
    directory.numpy_engine  # load the weights before any timing  # noqa: B018
    return Peer(lambda texts: np.asarray(inference.predict_proba(directory, texts), dtype=np.float64), 0.0)


def train_ours(config, dataset: Dataset, out: Path) -> Peer:
    """Train ``config`` on ``dataset`` into ``out`` and return it as a peer, its wall seconds as train time."""
    from sentiment_rnn.training.run import train as train_model

    started = time.perf_counter()
    result = train_model(config, out, dataset=dataset, verbose=0)
    peer = ours(out)
    peer.train_seconds = time.perf_counter() - started
    peer.detail = f"retrained by configs/reviews-en.toml without the held-out source, best epoch {result.best_epoch}"
    return peer


def measure(system: str, peer: Peer, split_name: str, split: Split) -> dict:
    started = time.perf_counter()
    probabilities = peer.probabilities(split.dataset.texts)
    seconds = time.perf_counter() - started
    labels = split.dataset.labels
    predicted = (probabilities >= 0.5).astype(int)
    return {
        "system": system,
        "split": split_name,
        "n": len(labels),
        "accuracy": float(np.mean(predicted == labels)),
        "ece": expected_calibration_error(labels, probabilities),
        "brier": brier_score(labels, probabilities),
        "pair_consistency": pair_consistency(split, probabilities),
        "train_seconds": round(peer.train_seconds, 1),
        "predict_seconds": round(seconds, 2),
        "detail": peer.detail,
    }


def run_part(part: str, data_dir: Path, model_dir: Path, save: Callable[[dict], None]) -> None:
    config = load_config(CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        if part == "in-domain":
            if not (model_dir / "meta.json").exists():
                raise SystemExit(f"{model_dir} holds no model: build it with python benchmarks/build_reviews_en.py.")
            union = dataset_from_config(config.data)
            print(f"in-domain: {len(union)} training texts", flush=True)
            name = "reviews-en (bundled)" if model_dir == BUNDLED else model_dir.name
            systems = {f"ours: {name}": ours(model_dir)}
            splits = TEST_SPLITS
        else:
            left_out, test = HOLDOUTS[part.removeprefix("holdout-")]
            kept = tuple(s for s in config.data.sources if not any(f in (s.path or s.pos) for f in left_out))
            config = dataclasses.replace(config, data=dataclasses.replace(config.data, sources=kept))
            union = dataset_from_config(config.data)
            print(f"{part}: {len(union)} training texts from {len(kept)} sources", flush=True)
            systems = {"ours: reviews-en recipe": train_ours(config, union, Path(tmp) / "model")}
            splits = (test,)
        systems.update({title: fit(union, 1) for title, fit in PEERS.items()})
        for split_name in splits:
            split = read_split(split_name, data_dir)
            for system, peer in systems.items():
                save({"part": part, **measure(system, peer, split_name, split)})


def render(results: dict) -> str:
    lines = [
        "# reviews-en against the peers, on every clean test split",
        "",
        "Generated by `benchmarks/general.py` from `general.json`. Every system of a part was trained on the same",
        "union of training splits (`configs/reviews-en.toml`: SST-2 GLUE train.tsv, IMDB train/, MR without",
        "i % 10 == 0, Amazon books and dvd, CAD train_paired.tsv, the built-in corpus), in one run; VADER is rule based.",
        "ECE: expected calibration error over 10 equal-width bins; Brier: mean squared error of the probabilities.",
        "Pair consistency (CAD): share of the review pairs with both reviews right. Datasets: SST-2 (Socher et al.",
        "2013), MR (Pang & Lee 2005), IMDB (Maas et al. 2011), Amazon multi-domain (Blitzer et al. 2007), CAD",
        "(Kaushik et al. 2020).",
        "",
    ]
    for part in PARTS:
        rows = [r for r in results["results"] if r["part"] == part]
        if not rows:
            continue
        run = results["runs"][part]
        m = run["machine"]
        lines += [
            f"## {part}",
            "",
            f"{run['date']}: `{run['command']}` on {m['nproc']} cores ({m['cpu']}), Python {m['python']}, "
            f"load average {m['load']} at start.",
            "",
            "| split | system | accuracy | ECE | Brier | pair consistency | train (s) | predict (s) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for split in dict.fromkeys(r["split"] for r in rows):
            for r in (r for r in rows if r["split"] == split):
                pairs = "" if r["pair_consistency"] is None else f"{r['pair_consistency']:.4f}"
                lines.append(
                    f"| {TITLES[split]} ({r['n']:,}) | {r['system']} | {r['accuracy']:.4f} | {r['ece']:.4f} "
                    f"| {r['brier']:.4f} | {pairs} | {r['train_seconds']:.0f} | {r['predict_seconds']:.1f} |"
                )
        lines += ["", "Targets (ours above TF-IDF + LR and fastText; ours' ECE at most 0.05):", ""]
        for split in dict.fromkeys(r["split"] for r in rows):
            by_system = {r["system"]: r for r in rows if r["split"] == split}
            mine = next((r for s, r in by_system.items() if s.startswith("ours")), None)
            trained = [r["accuracy"] for s, r in by_system.items() if not s.startswith(("ours", "VADER"))]
            if mine is None or not trained:
                continue
            above = mine["accuracy"] > max(trained)
            lines.append(
                f"- {TITLES[split]}: ours {mine['accuracy']:.4f} against best trained peer {max(trained):.4f}: "
                f"{'**met**' if above else '**not met**'}; ECE {mine['ece']:.4f}: "
                f"{'**met**' if mine['ece'] <= ECE_TARGET else '**not met**'}"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, default="in-domain")
    parser.add_argument("--model", type=Path, default=BUNDLED, help="our model for in-domain (default: the bundled)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--results", type=Path, default=RESULTS / "general.json")
    args = parser.parse_args(argv)
    run = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", "benchmarks/general.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
    }
    results = json.loads(args.results.read_text()) if args.results.exists() else {"results": [], "runs": {}}
    results["results"] = [r for r in results["results"] if r["part"] != args.part]
    results["runs"][args.part] = run

    def save(record: dict) -> None:
        results["results"].append(record)
        print(json.dumps(record), flush=True)
        args.results.write_text(json.dumps(results, indent=1) + "\n")
        write_markdown(args.results.with_suffix(".md"), render(results), generator="benchmarks/general.py")

    run_part(args.part, args.data_dir, args.model, save)


if __name__ == "__main__":
    main()
