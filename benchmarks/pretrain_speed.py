"""Training speed of `sentiment-rnn pretrain` beside a plain Keras script of the same model, in one run.

Run from the repository root, with the datasets in ../shared/datasets:

    python benchmarks/pretrain_speed.py [--texts 3000] [--rounds 2]

Both train configs/lm.toml's model (a GRU over a tied embedding, a sampled softmax of 512 words,
batches of 32 lanes x 70 tokens) for one epoch on the first --texts reviews of IMDB's unsup.txt.gz:

- ours: `sentiment-rnn pretrain` as a user runs it (reading, tokenizing and dealing the text into
  lanes while it trains, the held-out pass, the checkpoint, writing the directory);
- plain Keras: the token ids already in memory as one array cut into the same batches, a stateful GRU,
  a custom train_step with tf.nn.sampled_softmax_loss, model.fit; nothing else. This is the floor we
  cannot beat without changing the maths.

Each is timed by its own training steps only (tokens / seconds inside fit's epoch, measured by a
callback), alternating ours and plain --rounds times; the table gives the median tokens/s and the ratio.
Writes benchmarks/results/pretrain_speed.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNSUP = ROOT.parent / "shared" / "datasets" / "imdb" / "unsup.txt.gz"
RESULTS = ROOT / "benchmarks" / "results" / "pretrain_speed.md"


def sample(path: Path, texts: int, directory: Path) -> Path:
    """The first ``texts`` reviews of ``path``, as a plain text file in ``directory``."""
    out = directory / "sample.txt"
    with gzip.open(path, "rt", encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
        for number, line in enumerate(source):
            if number == texts:
                break
            target.write(line)
    return out


def ours(text: Path, directory: Path) -> float:
    """Training tokens/s of `pretrain` on ``text`` (one epoch), from its own epoch timing."""
    from sentiment_rnn.config import load_config
    from sentiment_rnn.data.unlabelled import TextFiles
    from sentiment_rnn.training.language import pretrain

    config = load_config(ROOT / "configs" / "lm.toml", ["train.epochs=1"])
    result = pretrain(config, TextFiles((str(text),)), directory / f"lm-{time.monotonic_ns()}", verbose=0)
    return result.tokens_per_second


def plain_keras(text: Path) -> float:
    """Training tokens/s of a plain Keras script of the same model on the same text (one epoch)."""
    import numpy as np

    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    import tensorflow as tf

    from sentiment_rnn.config import load_config
    from sentiment_rnn.data.unlabelled import TextFiles, count_corpus, encoded_texts

    config = load_config(ROOT / "configs" / "lm.toml")
    m, t = config.model, config.train
    corpus = count_corpus(TextFiles((str(text),)), config.tokenizer.max_tokens, every=10**9)
    ids = np.concatenate(
        [[*text_ids, 0] for text_ids in encoded_texts(TextFiles((str(text),)), corpus.vocabulary, 10**9, False)]
    )
    lanes, steps, words = t.batch_size, t.bptt, len(corpus.vocabulary)
    per_lane = len(ids) // lanes
    lane_ids = ids[: per_lane * lanes].reshape(lanes, per_lane)
    batches = (per_lane - 1) // steps
    x = np.stack([lane_ids[:, b * steps : (b + 1) * steps] for b in range(batches)]).astype("int32")
    y = np.stack([lane_ids[:, b * steps + 1 : (b + 1) * steps + 1] for b in range(batches)]).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).prefetch(4)

    inputs = keras.Input(batch_shape=(lanes, steps), dtype="int32")
    embedding = keras.layers.Embedding(words, m.output_dim)
    hidden = keras.layers.Dense(m.output_dim)(
        keras.layers.GRU(m.units, return_sequences=True, stateful=True)(embedding(inputs))
    )
    network = keras.Model(inputs, hidden)
    bias = tf.Variable(tf.zeros([words]))

    class Plain(keras.Model):
        def train_step(self, batch):
            ids, targets = batch
            with tf.GradientTape() as tape:
                h = tf.reshape(network(ids, training=True), [-1, m.output_dim])
                loss = tf.reduce_mean(
                    tf.nn.sampled_softmax_loss(
                        embedding.embeddings,
                        bias,
                        tf.cast(tf.reshape(targets, [-1, 1]), tf.int64),
                        h,
                        t.sampled_softmax,
                        words,
                    )
                )
            variables = network.trainable_variables + [bias]
            self.optimizer.apply(tape.gradient(loss, variables), variables)
            return {"loss": loss}

    model = Plain(inputs, network.output)
    model.compile(optimizer=keras.optimizers.Adam(t.learning_rate, clipnorm=t.clipnorm), jit_compile=False)
    timer = EpochTimer()
    model.fit(data, epochs=1, verbose=0, callbacks=[timer])
    return batches * lanes * steps / timer.seconds


class EpochTimer:
    """A Keras callback-like timer of one epoch (built lazily so importing this script needs no Keras)."""

    def __new__(cls):
        from sentiment_rnn.tf_setup import import_keras

        keras = import_keras()

        class Timer(keras.callbacks.Callback):
            seconds = 0.0

            def on_epoch_begin(self, epoch, logs=None):
                self.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds = time.perf_counter() - self.started

        return Timer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000, help="reviews of unsup.txt.gz to train on")
    parser.add_argument("--rounds", type=int, default=2, help="times each is measured, alternating")
    args = parser.parse_args()
    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    figures: dict[str, list[float]] = {"ours": [], "plain": []}
    with tempfile.TemporaryDirectory() as scratch:
        text = sample(UNSUP, args.texts, Path(scratch))
        for _ in range(args.rounds):
            figures["ours"].append(ours(text, Path(scratch)))
            figures["plain"].append(plain_keras(text))
    medians = {name: statistics.median(values) for name, values in figures.items()}
    command = f"python benchmarks/pretrain_speed.py --texts {args.texts} --rounds {args.rounds}"
    lines = [
        "# Pretraining speed: `sentiment-rnn pretrain` beside a plain Keras script of the same model",
        "",
        f"Command: `{command}`; {started}; {platform.machine()}, {os.cpu_count()} CPUs; load average at the start "
        f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (other jobs may have shared the cores: compare the ratio, "
        "measured in the same run, alternating).",
        "",
        f"Model: configs/lm.toml (GRU 256 over a tied 128-d embedding, sampled softmax of 512 words, batches of "
        f"32 lanes x 70 tokens), one epoch on the first {args.texts:,} reviews of IMDB's unsup.txt.gz.",
        "",
        "| | training tokens/s (median) | each round |",
        "|---|---|---|",
        f"| sentiment-rnn pretrain | {medians['ours']:,.0f} | {', '.join(f'{v:,.0f}' for v in figures['ours'])} |",
        f"| plain Keras script (the floor) | {medians['plain']:,.0f} | {', '.join(f'{v:,.0f}' for v in figures['plain'])} |",
        "",
        f"Ratio ours / plain: {medians['ours'] / medians['plain']:.2f}.",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
