"""Pretraining: the language model learns to guess the next word of text without labels (``sentiment-rnn pretrain``).

The texts of the input files form one token stream, each text followed by the
boundary id 0 (``models.TEXT_BOUNDARY_ID``, the classifiers' padding id). Every
``k``-th text (``k = round(1 / train.validation_split)``) is held out to measure
perplexity; the others are dealt, each to the shortest of ``train.batch_size``
lanes, and cut into windows of ``train.bptt`` tokens: batch ``n`` holds window
``n`` of every lane, so a stateful model carries each lane's state from one batch
to the next (truncated backpropagation through time over a stream, as Zaremba
et al. 2014 and ULMFiT train theirs). A lane holds one text and one window.

The loss is a sampled softmax (Jean et al. 2015: ``train.sampled_softmax`` words
of the vocabulary's log-uniform distribution beside the right one) over tied
input and output embeddings (``models.tied_embedding_layer``); held-out
perplexity is always measured with the full softmax.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_rnn import progress
from sentiment_rnn.config import Config
from sentiment_rnn.data.unlabelled import Corpus, TextFiles, count_corpus, encoded_texts, heldout_every, windows
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.pretrained import continue_language_model, open_language_model, started_from

MONITOR_EVERY = 37  # with a sampled softmax: every 37th position of a batch also gets the full softmax, for perplexity


def window_dataset(make_texts: Callable[[], Iterable[list[int]]], lanes: int, steps: int):
    """``tf.data`` of (ids (lanes, steps) int32, next ids (lanes, steps) int32), read anew at each pass, endless.

    ``fit`` takes as many batches as a pass gives (``Corpus.train_windows``) per epoch.
    """
    import tensorflow as tf

    def generate():
        for window in windows(make_texts(), lanes, steps):
            yield window[:, :-1], window[:, 1:]

    spec = tf.TensorSpec((lanes, steps), tf.int32)
    return tf.data.Dataset.from_generator(generate, output_signature=(spec, spec)).repeat().prefetch(4)


@functools.cache
def language_model_trainer_class(seed: int = 0):
    """The ``LanguageModelTrainer`` Keras model class, built on first use (importing this module needs no Keras)."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()
    import tensorflow as tf

    from sentiment_rnn.models import EMBEDDING_LAYER, PROJECTION_LAYER

    class LanguageModelTrainer(keras.Model):
        """Trains a language model (``models.build_language_model``) with a sampled or full softmax.

        Its logs: ``loss`` (the training loss: with a sampled softmax, the sampled
        loss, which is lower than the full one), ``perplexity`` (exp of the full
        softmax's cross-entropy, with a sampled softmax on every
        :data:`MONITOR_EVERY`-th position); held out, ``val_loss`` and
        ``val_perplexity`` of the full softmax.
        """

        def __init__(self, network, sampled: int, **kwargs):
            super().__init__(**kwargs)
            self.seed = seed
            self.network = network
            self.hidden = keras.Model(network.input, network.get_layer(PROJECTION_LAYER).output)
            self.embedding = network.get_layer(EMBEDDING_LAYER)
            self.sampled = sampled
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.cross_entropy_tracker = keras.metrics.Mean(name="cross_entropy")

        def call(self, ids, training=False):
            return self.network(ids, training=training)

        @property
        def metrics(self):
            return [self.loss_tracker, self.cross_entropy_tracker]

        def full_cross_entropy(self, hidden, targets):
            """Mean cross-entropy of the full softmax: hidden (N, D), targets (N,) -> ()."""
            logits = self.embedding(hidden, reverse=True)  # (N, V)
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits))

        def train_step(self, data):
            ids, targets = data  # (B, T) each
            with tf.GradientTape() as tape:
                hidden = self.hidden(ids, training=True)  # (B, T, D)
                flat_hidden = tf.reshape(hidden, [-1, hidden.shape[-1]])  # (B T, D)
                flat_targets = tf.reshape(targets, [-1])
                if self.sampled:
                    loss = tf.reduce_mean(
                        tf.nn.sampled_softmax_loss(
                            weights=self.embedding.embeddings,
                            biases=self.embedding.output_bias,
                            labels=tf.cast(flat_targets[:, None], tf.int64),
                            inputs=flat_hidden,
                            num_sampled=self.sampled,
                            num_classes=self.embedding.input_dim,
                            seed=self.seed,
                        )
                    )
                else:
                    loss = self.full_cross_entropy(flat_hidden, flat_targets)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            if self.sampled:
                watched = tf.stop_gradient(flat_hidden[::MONITOR_EVERY])
                cross_entropy = self.full_cross_entropy(watched, flat_targets[::MONITOR_EVERY])
            else:
                cross_entropy = loss
            self.loss_tracker.update_state(loss)
            self.cross_entropy_tracker.update_state(cross_entropy)
            return self.logs()

        def test_step(self, data):
            ids, targets = data
            hidden = self.hidden(ids, training=False)
            cross_entropy = self.full_cross_entropy(
                tf.reshape(hidden, [-1, hidden.shape[-1]]), tf.reshape(targets, [-1])
            )
            self.loss_tracker.update_state(cross_entropy)
            self.cross_entropy_tracker.update_state(cross_entropy)
            return self.logs()

        def logs(self):
            return {"loss": self.loss_tracker.result(), "perplexity": tf.exp(self.cross_entropy_tracker.result())}

    return LanguageModelTrainer


@functools.cache
def stream_callbacks_class():
    """The ``StreamCallbacks`` callback class: lane states reset at each pass, progress in tokens/s."""
    from sentiment_rnn.tf_setup import import_keras

    keras = import_keras()

    class StreamCallbacks(keras.callbacks.Callback):
        """Reset the stateful layers before each pass over the stream (training or held out); show progress.

        Progress (stderr, when :func:`progress.enabled`): one line redrawn about
        every second: epoch, tokens read, tokens/s, loss and perplexity so far.
        """

        def __init__(self, network, tokens_per_batch: int, epochs: int, tokens_per_epoch: int, show: bool):
            super().__init__()
            self.network = network
            self.tokens_per_batch = tokens_per_batch
            self.epochs = epochs
            self.tokens_per_epoch = tokens_per_epoch
            self.show = show
            self.started = self.shown = self.last_batch = 0.0
            self.epoch = self.batches = 0
            self.rates: list[float] = []  # tokens/s of each finished epoch

        def reset(self):
            from sentiment_rnn.models import reset_states

            reset_states(self.network)

        def on_epoch_begin(self, epoch, logs=None):
            self.reset()
            self.epoch, self.batches = epoch, 0
            self.started = self.shown = time.perf_counter()

        def on_test_begin(self, logs=None):
            self.reset()

        def on_train_batch_end(self, batch, logs=None):
            self.batches = batch + 1
            now = self.last_batch = time.perf_counter()
            if self.show and now - self.shown >= 1.0:
                self.shown = now
                tokens = (batch + 1) * self.tokens_per_batch
                logs = logs or {}
                sys.stderr.write(
                    f"\rEpoch {self.epoch + 1}/{self.epochs}  {tokens:,}/{self.tokens_per_epoch:,} tokens  "
                    f"{tokens / max(now - self.started, 1e-9):,.0f} tokens/s  loss {float(logs.get('loss', 0)):.3f}  "
                    f"perplexity {float(logs.get('perplexity', 0)):.1f}   "
                )
                sys.stderr.flush()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            seconds = self.last_batch - self.started  # the training steps only, not the held-out pass
            self.rates.append(self.batches * self.tokens_per_batch / max(seconds, 1e-9))
            logs["tokens_per_second"] = self.rates[-1]  # into history.csv and the checkpoint: a resume keeps it
            if self.show:
                sys.stderr.write(
                    f"\rEpoch {epoch + 1}/{self.epochs}  {self.rates[-1]:,.0f} tokens/s  loss {logs.get('loss', 0):.3f}"
                    f"  perplexity {logs.get('perplexity', 0):.1f}  held out {logs.get('val_perplexity', 0):.1f}\n"
                )
                sys.stderr.flush()

    return StreamCallbacks


@dataclass
class PretrainResult:
    """What ``pretrain`` produced: the language model directory and its held-out perplexity."""

    out_dir: Path
    metrics: dict[str, Any]  # held out: loss, perplexity, texts, tokens
    epochs_run: int
    best_epoch: int
    corpus: Corpus
    tokens_per_second: float  # training tokens per second, the mean over this run's epochs
    model: Any = None  # the Keras model (token ids in, next-word logits out)


def pretrain(
    config: Config,
    files: TextFiles,
    out_dir: str | Path,
    verbose: int | str = "auto",
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> PretrainResult:
    """Train the language model ``config`` describes (``model.kind = "lm"``) on ``files`` and write its directory.

    As ``train`` does: ``out_dir`` is replaced only when everything in it is the tool's (``artifact.ownership``;
    anything else is refused before the corpus is read), it is locked while the run writes it, every finished
    epoch is backed up beside it (``--resume`` continues after the last one; Ctrl-C keeps it), early stopping on
    held-out loss restores the best epoch, and the directory is written atomically: ``model.keras`` (token ids
    in, logits out), ``config.toml``, ``vocabulary.json``, ``weights.npz`` and ``engine.json`` (the NumPy
    engine), ``metrics.json`` (held-out perplexity), ``history.csv``, ``meta.json``, ``training.png`` and
    ``manifest.json``.

    Args:
        config: a config with ``model.kind = "lm"``.
        files: the text to learn from.
        verbose: 0 for silence; otherwise progress on stderr when it is a terminal.
        callbacks: extra Keras callbacks for ``fit``.

    Raises:
        SentimentError: not a language model config, an ``out_dir`` not the tool's, unreadable input, too little
            text, another run writing ``out_dir``, nothing to resume, a diverged run.
    """
    from sentiment_rnn.artifact.atomic import check_target, staged_directory
    from sentiment_rnn.training.backup import locked_backup

    if config.model.kind != "lm":
        raise SentimentError(
            f'pretrain trains a language model, but the config says model.kind = "{config.model.kind}": '
            'set model.kind = "lm" (configs/lm.toml is one).'
        )
    if config.train.distribute == "multi-worker":
        raise SentimentError(
            'pretrain runs on one machine (train.distribute = "none" or "mirrored"); Keras fit does not run '
            'under the multi-worker strategy (keras-team/keras#20585). Set train.distribute = "mirrored".'
        )
    out_dir = Path(out_dir)
    check_target(out_dir)  # a directory of the user's is refused before a pass over the corpus, not after it
    quiet = not verbose or not progress.enabled()
    every = heldout_every(config)
    lanes, steps = config.train.batch_size, config.train.bptt
    vocabulary = None
    if config.model.init_from:  # go on training that language model: its vocabulary, then its weights
        vocabulary = open_language_model(config).vocabulary.tokens
    corpus = count_corpus(files, config.tokenizer.max_tokens, every, lanes, steps, not verbose, vocabulary)
    for part, count in (("training", corpus.train_windows), ("held-out", corpus.heldout_windows)):
        if not count:
            raise SentimentError(
                f"The {part} text of {' + '.join(files.paths)} is too short for one batch of train.batch_size = "
                f"{lanes} lanes of train.bptt = {steps} tokens each: pass more text, or lower those keys."
            )
    with (
        locked_backup(out_dir, config, None, resume, digest=files.digest()) as backup,
        staged_directory(out_dir) as staging,
    ):
        model, history, stream = fit_language_model(config, files, corpus, every, staging, backup, quiet, callbacks)
        return write_language_model(config, files, corpus, model, history, stream, staging, out_dir)


def fit_language_model(config, files, corpus, every, staging, backup, quiet, callbacks):
    """Build, compile and fit the trainer; return (the stateless model with the best weights, history, stream callback)."""
    from sentiment_rnn.artifact.files import HISTORY_FILE
    from sentiment_rnn.models import build_language_model
    from sentiment_rnn.tf_setup import import_keras
    from sentiment_rnn.training.callbacks import divergence_check, early_stopping, history_logger
    from sentiment_rnn.training.checkpoint import epoch_checkpoint_class, latest_checkpoint
    from sentiment_rnn.training.distributed import make_strategy
    from sentiment_rnn.training.optimizer import make_optimizer
    from sentiment_rnn.training.pipeline import seed_everything

    import_keras()
    seed_everything(config.train.seed)
    lanes, steps = config.train.batch_size, config.train.bptt
    strategy = make_strategy(config.train.distribute) if config.train.distribute != "none" else None
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        network = build_language_model(config.model, len(corpus.vocabulary), batch_size=lanes, stateful=True)
        continue_language_model(network, config)
        trainer = language_model_trainer_class(config.train.seed)(
            network, config.train.sampled_softmax, name="lm_trainer"
        )
        trainer.compile(
            optimizer=make_optimizer(config, corpus.train_windows),
            jit_compile=False,
        )
        trainer(np.zeros((lanes, steps), np.int32))  # builds every weight before a checkpoint is restored
    stopping = early_stopping(config)
    checkpoint = epoch_checkpoint_class()(backup, stopping)
    checkpoint.set_model(trainer)
    first_epoch = 0
    latest = latest_checkpoint(backup)
    if latest is not None:
        first_epoch = checkpoint.restore(latest, config.train.epochs)
        if checkpoint.restored_state["stopped"]:
            first_epoch = config.train.epochs
    stream = stream_callbacks_class()(network, lanes * steps, config.train.epochs, corpus.train_tokens, show=not quiet)
    logger = history_logger(staging / HISTORY_FILE, checkpoint.history)
    if first_epoch < config.train.epochs:
        training = window_dataset(lambda: encoded_texts(files, corpus.vocabulary, every, False), lanes, steps)
        heldout = window_dataset(lambda: encoded_texts(files, corpus.vocabulary, every, True), lanes, steps)
        with contextlib.redirect_stdout(sys.stderr):
            trainer.fit(
                training,
                steps_per_epoch=corpus.train_windows,
                validation_data=heldout,
                validation_steps=corpus.heldout_windows,
                initial_epoch=first_epoch,
                epochs=config.train.epochs,
                shuffle=False,  # the lanes are a stream: its order is what the state carries
                callbacks=[stream, stopping, divergence_check(), checkpoint, logger, *callbacks],
                verbose=0,
            )
    elif checkpoint.restored_best is not None:
        trainer.set_weights(checkpoint.restored_best)
    rows = checkpoint.history  # (an older run's rows may lack a key: tokens_per_second)
    history = {key: [row[key] for row in rows if key in row] for key in dict.fromkeys(k for row in rows for k in row)}
    stateless = build_language_model(config.model, len(corpus.vocabulary))
    for layer in stateless.layers:
        if layer.weights:
            layer.set_weights(network.get_layer(layer.name).get_weights())
    return stateless, history, stream


def write_language_model(config, files, corpus, model, history, stream, staging, out_dir) -> PretrainResult:
    """Write the language model directory's files into ``staging``."""
    from sentiment_rnn.artifact.engine_files import write_engine_files
    from sentiment_rnn.artifact.files import (
        CONFIG_FILE,
        HISTORY_FILE,
        META_FILE,
        METRICS_FILE,
        MODEL_FILE,
        PLOT_FILE,
        VOCABULARY_FILE,
        meta_for,
        write_json,
        write_vocabulary,
    )
    from sentiment_rnn.config import to_toml
    from sentiment_rnn.plots import write_training_plot

    best_epoch = int(np.argmin(history["val_loss"])) + 1
    metrics = {
        "loss": float(history["val_loss"][best_epoch - 1]),
        "perplexity": float(history["val_perplexity"][best_epoch - 1]),
        "texts": corpus.heldout_texts,
        "tokens": corpus.heldout_tokens,
    }
    model.save(staging / MODEL_FILE)
    (staging / CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
    write_vocabulary(staging / VOCABULARY_FILE, corpus.vocabulary)
    write_json(staging / METRICS_FILE, metrics)
    write_engine_files(model, config, staging, corpus.vocabulary)
    rates = history.get("tokens_per_second", [])
    rate = float(np.mean(rates)) if rates else 0.0
    summary = {
        "source": " + ".join(files.paths),
        "sources": list(files.paths),
        "train_texts": corpus.train_texts,
        "train_tokens": corpus.train_tokens,
        "heldout_texts": corpus.heldout_texts,
        "heldout_tokens": corpus.heldout_tokens,
        "heldout_every": heldout_every(config),
        "unknown_share": round(corpus.unknown_share, 6),
        "epochs_run": len(history["val_loss"]),
        "best_epoch": best_epoch,
        "tokens_per_second": round(rate, 1),
    }
    write_json(staging / META_FILE, meta_for(config, summary, started_from(config)))
    write_training_plot(staging / HISTORY_FILE, staging / PLOT_FILE, best_epoch)
    return PretrainResult(out_dir, metrics, len(history["val_loss"]), best_epoch, corpus, rate, model)
