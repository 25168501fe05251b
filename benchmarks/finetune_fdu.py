"""A classifier that starts from a language model, beside the same one from random weights and TF-IDF + LR,
trained on one FDU-MTL domain and scored on every domain's test split.

Run from the repository root, with the datasets in ../shared/datasets:

    python benchmarks/finetune_fdu.py --train books --system tfidf-lr
    python benchmarks/finetune_fdu.py --train books --system finetune --lm sentiment_rnn/bundled/reviews-lm
    python benchmarks/finetune_fdu.py --train books --system random

Systems, all trained on DOMAIN.task.train only (1,600 reviews):
- tfidf-lr: TF-IDF of word 1-2 grams (sublinear tf) + scikit-learn LogisticRegression (C = 10);
- finetune: configs/finetune.toml with model.init_from = --lm (a GRU of 256 over the language
  model's vocabulary, embedding and recurrent layer, max pooling, fine-tuned 4 epochs at most);
- random: the same architecture and training, from random weights (what the language model adds).

Each run appends one JSON line to benchmarks/results/finetune_fdu.jsonl (its command, machine, load
average and date with it) and renders benchmarks/results/finetune_fdu.md from all lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sentiment_rnn.data.dataset import Dataset  # noqa: E402

FDU = ROOT.parent / "shared" / "datasets" / "fdu-mtl"
DOMAINS = ("books", "dvd", "video", "magazines", "music")
RESULTS = ROOT / "benchmarks" / "results"
# The finetune preset's architecture and training, for the random start.
RANDOM_START = [
    'model.cell="gru"',
    "model.units=256",
    "model.output_dim=128",
    'model.pooling="max"',
    "model.dropout=0.2",
    "train.learning_rate=0.001",
    "train.epochs=4",
    "train.patience=1",
]


def read_domain(domain: str, part: str) -> Dataset:
    """``DOMAIN.task.PART``: ``LABEL<TAB>text`` lines (one line of dvd's train is not UTF-8: replaced)."""
    texts, labels = [], []
    with (FDU / f"{domain}.task.{part}").open("rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.strip():
                label, text = line.split("\t", 1)
                texts.append(text)
                labels.append(int(label))
    return Dataset(texts, np.array(labels), f"{domain}.task.{part}")


def accuracies(system: str, train: Dataset, tests: dict[str, Dataset], lm: str) -> dict[str, float]:
    if system == "tfidf-lr":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        classifier = LogisticRegression(C=10, max_iter=2000).fit(vectorizer.fit_transform(train.texts), train.labels)
        return {
            d: float((classifier.predict(vectorizer.transform(t.texts)) == t.labels).mean()) for d, t in tests.items()
        }
    from sentiment_rnn.config import load_config
    from sentiment_rnn.inference import predict
    from sentiment_rnn.training.run import train as train_model

    if system == "finetune":
        config = load_config(ROOT / "configs" / "finetune.toml", [f'model.init_from="{lm}"'])
    else:
        config = load_config(overrides=RANDOM_START)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "model"
        train_model(config, out, dataset=train, verbose=0)
        return {
            d: float(
                (np.array([p.probability for p in predict(out, t.texts)]) >= 0.5).astype(int).__eq__(t.labels).mean()
            )
            for d, t in tests.items()
        }


def render(records: list[dict]) -> str:
    lines = [
        "# Fine-tuning from a language model on FDU-MTL: one domain's training split, every domain's test split",
        "",
        "Accuracy on each domain's `.task.test` (400 reviews); bold: the training domain. Commands, machine,",
        "load average and date per row (other jobs shared the machine: the figures are accuracy, not speed).",
        "",
        "| trained on | system | " + " | ".join(DOMAINS) + " | mean of the other four | command, date, load |",
        "|---|---|" + "---|" * len(DOMAINS) + "---|---|",
    ]
    for r in records:
        cells = [f"**{r[d]:.4f}**" if d == r["train"] else f"{r[d]:.4f}" for d in DOMAINS]
        where = f"`{r['command']}`, {r['date']}, load {r['load']}"
        lines.append(f"| {r['train']} | {r['system']} | " + " | ".join(cells) + f" | {r['mean_other']:.4f} | {where} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", choices=DOMAINS, required=True)
    parser.add_argument("--system", choices=("tfidf-lr", "finetune", "random"), required=True)
    parser.add_argument("--lm", default="reviews-lm", help="the language model finetune starts from")
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    tests = {domain: read_domain(domain, "test") for domain in DOMAINS}
    scores = accuracies(args.system, read_domain(args.train, "train"), tests, args.lm)
    command = f"python benchmarks/finetune_fdu.py --train {args.train} --system {args.system}"
    command += f" --lm {args.lm}" if args.system == "finetune" else ""
    record = {
        "train": args.train,
        "system": args.system,
        **scores,
        "mean_other": float(np.mean([v for d, v in scores.items() if d != args.train])),
        "command": command,
        "date": started,
        "load": load,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    with (RESULTS / "finetune_fdu.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    records = [json.loads(line) for line in (RESULTS / "finetune_fdu.jsonl").read_text().splitlines() if line]
    (RESULTS / "finetune_fdu.md").write_text(render(records), encoding="utf-8")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
