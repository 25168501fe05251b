"""A classifier that starts from a language model, beside TF-IDF + LR trained in the same run, on FDU-MTL:
trained on one domain's training split, scored on every domain's test split.

Run from the repository root, with the datasets in ../shared/datasets:

    python benchmarks/finetune_fdu.py --system finetune
    python benchmarks/finetune_fdu.py --system finetune --train books --set train.schedule=\\"one-cycle\\" --name one-cycle
    python benchmarks/finetune_fdu.py --system finetune --lm-epochs 2 --name lm-finetuned
    python benchmarks/finetune_fdu.py --system random --train books

Systems, each trained on DOMAIN.task.train only (1,600 reviews; --train picks domains, all five by default):
- tfidf-lr, the peer, trained in every run beside the system asked for: TF-IDF of word 1-2 grams
  (sublinear tf) + scikit-learn LogisticRegression (C = 10);
- finetune: configs/finetune.toml with model.init_from = --lm, plus any --set overrides; with
  --lm-epochs N, the language model first goes on training N epochs on the domain's own training
  texts (`pretrain --init-from`, ULMFiT's second step) and the classifier starts from that one;
- random: configs/finetune.toml's architecture and training from random weights (what pretraining adds).

Each run appends one JSON line per trained domain to benchmarks/results/finetune_fdu.jsonl (the run's
command, machine, load average and date with it) and renders benchmarks/results/finetune_fdu.md from
all lines: per run, each system's accuracy beside the peer's of the same run, and how many of the
in-domain and cross-domain test splits it wins.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
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
PEER = "tfidf-lr"
# configs/finetune.toml's architecture and training, for the random start.
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


def peer_accuracies(train: Dataset, tests: dict[str, Dataset]) -> dict[str, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    classifier = LogisticRegression(C=10, max_iter=2000).fit(vectorizer.fit_transform(train.texts), train.labels)
    return {d: float((classifier.predict(vectorizer.transform(t.texts)) == t.labels).mean()) for d, t in tests.items()}


def language_model_on(train: Dataset, lm: str, epochs: int, scratch: Path) -> str:
    """``lm`` trained ``epochs`` more epochs on ``train``'s texts (labels unused); returns its directory."""
    from sentiment_rnn.config import load_config
    from sentiment_rnn.data.unlabelled import TextFiles
    from sentiment_rnn.training.language import pretrain

    texts = scratch / "texts.txt"
    texts.write_text("".join(" ".join(text.split()) + "\n" for text in train.texts), encoding="utf-8")
    # one text in 10 held out: 1,600 reviews at lm.toml's 1 in 50 hold out too few tokens for 32 lanes of 70
    overrides = [f'model.init_from="{lm}"', f"train.epochs={epochs}", "train.validation_split=0.1"]
    config = load_config(ROOT / "configs" / "lm.toml", overrides)
    pretrain(config, TextFiles((str(texts),)), scratch / "lm", verbose=0)
    return str(scratch / "lm")


def system_accuracies(args, train: Dataset, tests: dict[str, Dataset]) -> dict[str, float]:
    from sentiment_rnn.config import load_config
    from sentiment_rnn.inference import predict
    from sentiment_rnn.training.run import train as train_model

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if args.system == "finetune":
            lm = language_model_on(train, args.lm, args.lm_epochs, scratch) if args.lm_epochs else args.lm
            config = load_config(ROOT / "configs" / "finetune.toml", [f'model.init_from="{lm}"', *args.set])
        else:
            config = load_config(overrides=[*RANDOM_START, *args.set])
        out = scratch / "model"
        train_model(config, out, dataset=train, verbose=0)
        return {
            d: float(((np.array([p.probability for p in predict(out, t.texts)]) >= 0.5) == t.labels).mean())
            for d, t in tests.items()
        }


def render(records: list[dict]) -> str:
    lines = [
        "# Fine-tuning from a language model on FDU-MTL: one domain's training split, every domain's test split",
        "",
        "Accuracy on each domain's `.task.test` (400 reviews); bold: the training domain. Rows of one run",
        "(one command) were trained together, the peer TF-IDF + LR beside each system; `wins` counts the",
        "test splits where the system is above the peer of the same run (in domain / the other four).",
        "Other jobs may have shared the machine (load average given): the figures are accuracy, not speed.",
        "Runs before the peer was trained in the same run are listed last, as they were measured.",
    ]
    runs: dict[str, list[dict]] = {}
    for record in records:
        runs.setdefault(record.get("run", record["command"]), []).append(record)
    ordered = sorted(runs.values(), key=lambda rows: "run" not in rows[0])
    for rows in ordered:
        first = rows[0]
        lines += ["", f"### `{first['command']}`", "", f"{first['date']}, load {first['load']}, {first['machine']}", ""]
        if "note" in first:
            lines[-1:] = [f"Note: {first['note']}.", ""]
        lines.append("| trained on | system | " + " | ".join(DOMAINS) + " | mean of the other four | wins |")
        lines.append("|---|---|" + "---|" * len(DOMAINS) + "---|---|")
        for r in rows:
            cells = [f"**{r[d]:.4f}**" if d == r["train"] else f"{r[d]:.4f}" for d in DOMAINS]
            peer = r.get("peer")
            wins = ""
            if peer:
                inside = int(r[r["train"]] > peer[r["train"]])
                outside = sum(r[d] > peer[d] for d in DOMAINS if d != r["train"])
                wins = f"{inside}/1, {outside}/4"
            lines.append(
                f"| {r['train']} | {r['system']} | " + " | ".join(cells) + f" | {r['mean_other']:.4f} | {wins} |"
            )
            if peer:
                cells = [f"**{peer[d]:.4f}**" if d == r["train"] else f"{peer[d]:.4f}" for d in DOMAINS]
                mean = np.mean([peer[d] for d in DOMAINS if d != r["train"]])
                lines.append(f"| {r['train']} | {PEER} | " + " | ".join(cells) + f" | {mean:.4f} | |")
        total = [r for r in rows if r.get("peer")]
        if total:
            inside = sum(r[r["train"]] > r["peer"][r["train"]] for r in total)
            outside = sum(r[d] > r["peer"][d] for r in total for d in DOMAINS if d != r["train"])
            lines += [
                "",
                f"{first['system']} above {PEER}: {inside} of {len(total)} in domain, "
                f"{outside} of {4 * len(total)} across domains.",
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", nargs="+", choices=DOMAINS, default=list(DOMAINS), help="training domains")
    parser.add_argument("--system", choices=("finetune", "random"), required=True)
    parser.add_argument("--lm", default="reviews-lm", help="the language model finetune starts from")
    parser.add_argument("--lm-epochs", type=int, default=0, help="first train the LM on the domain's texts")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--name", help="the system's name in the results (default: --system)")
    args = parser.parse_args()
    command = "python benchmarks/finetune_fdu.py " + shlex.join(sys.argv[1:])
    run = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    tests = {domain: read_domain(domain, "test") for domain in DOMAINS}
    for domain in args.train:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        train = read_domain(domain, "train")
        peer = peer_accuracies(train, tests)
        scores = system_accuracies(args, train, tests)
        record = {
            "run": run,
            "train": domain,
            "system": args.name or args.system,
            **scores,
            "mean_other": float(np.mean([v for d, v in scores.items() if d != domain])),
            "peer": peer,
            "command": command,
            "date": started,
            "load": load,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        }
        with (RESULTS / "finetune_fdu.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        records = [json.loads(line) for line in (RESULTS / "finetune_fdu.jsonl").read_text().splitlines() if line]
        (RESULTS / "finetune_fdu.md").write_text(render(records), encoding="utf-8")
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
