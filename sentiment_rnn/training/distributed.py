"""Train on several devices (``mirrored``) or machines (``multi-worker``) with ``tf.distribute``.

``train.distribute = "mirrored"`` uses ``tf.distribute.MirroredStrategy`` over
this machine's GPUs, or its logical CPU devices when there is no GPU.
``train.distribute = "multi-worker"`` uses
``tf.distribute.MultiWorkerMirroredStrategy`` with the cluster described by
``TF_CONFIG`` (see :func:`use_cluster`). Keras 3's ``fit`` does not run under
that strategy (keras-team/keras#20585), nor under ``MirroredStrategy`` with
batches that do not split evenly, so :func:`fit_replicated` is the training
loop both use. Both keep everything else of the normal path: the
same data readers and split, tokenizer, model, optimizer, loss, early stopping
and model directory.

What differs, and why:

- Strings cannot cross replicas, so the tokenizer runs in the input pipeline:
  every process adapts the same vocabulary on the same training data, then maps
  text -> token ids before batches are distributed. The replicas train the
  model from token ids on; the saved model is the usual end-to-end one (raw
  strings in) with the trained weights.
- ``train.batch_size`` is the global batch: each of R replicas computes
  ``batch_size / R`` examples and the gradients are summed across replicas
  (all-reduce), so a step means what it means on one device.
- Each input pipeline (one per worker) reads the whole training stream with the same
  seeded shuffle and keeps every N-th example (worker i keeps i, i+N, ...),
  so the shards are disjoint and cover the data; a worker's replicas take
  turns at its batches. Every worker runs the same
  number of steps per epoch (``train.steps_per_epoch`` or one pass of the
  global batch), as collective all-reduce needs. After each epoch every worker
  computes the validation loss on the whole validation side with the same
  weights, so all take the same early-stopping decision.
- Only the chief (task ``chief``, or ``worker`` 0 when there is no chief)
  writes the model directory; the other workers write to a scratch directory
  that is removed.
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path

import numpy as np

from sentiment_rnn import jsondoc
from sentiment_rnn.budget import token_id_cap
from sentiment_rnn.config import Config
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.training.callbacks import divergence_check, early_stopping, history_logger
from sentiment_rnn.training.pipeline import (
    LabelledTexts,
    Split,
    adapt_tokenizer,
    batch_examples,
    example_stream,
    seed_everything,
    steps_per_epoch,
    tokenized,
    validation_batches,
)


def use_cluster(workers: str, worker_index: int) -> None:
    """Describe a multi-worker cluster in ``TF_CONFIG`` from ``--workers`` and ``--worker-index``.

    Args:
        workers: comma-separated ``host:port`` of every worker, the same list on each machine.
        worker_index: this machine's position in that list, from 0; worker 0 is the chief.

    Raises:
        SentimentError: malformed list or index out of range.
    """
    addresses = [address.strip() for address in workers.split(",") if address.strip()]
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise SentimentError(
                f"Worker address {address!r} is not host:port: pass e.g. --workers 10.0.0.1:12345,10.0.0.2:12345."
            )
    if not addresses:
        raise SentimentError("--workers is empty: pass every worker's host:port, e.g. --workers 10.0.0.1:12345.")
    if not 0 <= worker_index < len(addresses):
        raise SentimentError(
            f"--worker-index {worker_index} is outside the {len(addresses)} workers of --workers: "
            f"pass 0 to {len(addresses) - 1}."
        )
    os.environ["TF_CONFIG"] = json.dumps(
        {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": worker_index}}
    )


def cluster_spec() -> dict:
    """``TF_CONFIG`` parsed, or a SentimentError saying how to set it."""
    raw = os.environ.get("TF_CONFIG", "")
    example = '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
    if not raw:
        raise SentimentError(
            "train.distribute = multi-worker needs the cluster: set TF_CONFIG (e.g. "
            f"{example}) or pass --workers host:port,... --worker-index N."
        )
    try:
        spec = jsondoc.loads(raw)
        task_type, task_index = spec["task"]["type"], int(spec["task"]["index"])
        addresses = spec["cluster"][task_type]
        if not 0 <= task_index < len(addresses):
            raise IndexError(task_index)
    except (ValueError, KeyError, TypeError, IndexError):
        raise SentimentError(f"TF_CONFIG is not a valid cluster description: write it like {example}.") from None
    return spec


def is_chief() -> bool:
    """Whether this process writes the model directory of a multi-worker run."""
    spec = cluster_spec()
    task_type, task_index = spec["task"]["type"], int(spec["task"]["index"])
    if "chief" in spec["cluster"]:
        return task_type == "chief"
    return task_type == "worker" and task_index == 0


def join_cluster(distribute: str, workers: str | None = None, worker_index: int = 0) -> bool:
    """Take this process's place in a multi-worker cluster; say whether it writes the model directory.

    Args:
        distribute: ``train.distribute``; only ``multi-worker`` has a cluster.
        workers, worker_index: as for :func:`use_cluster`; None: ``TF_CONFIG`` describes the cluster.

    Returns:
        False for a multi-worker run's workers other than the chief, else True.

    Raises:
        SentimentError: ``workers`` without ``multi-worker``; a cluster that is
            not described, or badly (checked before any data is read).
    """
    multi_worker = distribute == "multi-worker"
    if workers is not None:
        if not multi_worker:
            raise SentimentError("--workers describes a multi-worker cluster: add --distribute multi-worker.")
        use_cluster(workers, worker_index)
    return is_chief() if multi_worker else True


@functools.cache
def make_strategy(kind: str):
    """The ``tf.distribute`` strategy ``train.distribute`` names (one per process)."""
    from sentiment_rnn.tf_setup import import_keras

    import_keras()
    import tensorflow as tf

    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    cluster_spec()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as exc:  # "Collective ops must be configured at program startup"
        raise SentimentError(
            f"Cannot start multi-worker training ({exc}): TensorFlow already ran in this process; "
            "start training in a fresh process (sentiment-rnn train --distribute multi-worker)."
        ) from None


def end_to_end_copy(config: Config, tokenizer, trained):
    """An end-to-end model (raw strings in), built and compiled outside any strategy, with ``trained``'s weights.

    ``trained`` is the token-id model (``models.token_id_model``); weights are matched by layer name.
    """
    from sentiment_rnn.models import TOKENIZER_LAYER, build_model, compile_model
    from sentiment_rnn.training.optimizer import make_optimizer

    copy = build_model(config, tokenizer, stateful=False, return_sequences=False)
    copy_weights(trained, copy, skip=TOKENIZER_LAYER)
    compile_model(copy, make_optimizer(config))
    copy.optimizer.build(copy.trainable_variables)  # saved with its slots, as a trained model's optimizer is
    return copy


def copy_weights(source, target, skip: str = "") -> None:
    """Copy weights layer by layer (matched by name) from one model to another."""
    for layer in target.layers:
        if layer.weights and layer.name != skip:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def fit_distributed(config: Config, split: Split, history_csv: Path | None = None, verbose: int | str = "auto"):
    """Adapt the tokenizer and fit on ``split`` under the strategy ``config.train.distribute`` names.

    Returns:
        (model, keras History) as :func:`sentiment_rnn.training.fit.fit`: an
        end-to-end model, built outside the strategy, holding the best weights
        by validation loss.

    Raises:
        TrainingDiverged: the loss or the validation loss became NaN or infinite.
        SentimentError: a cluster that is not described, a batch size the
            replicas cannot share.
    """
    from sentiment_rnn.models import build_training_model, compile_model, make_tokenizer, token_id_model
    from sentiment_rnn.pretrained import start_from_language_model
    from sentiment_rnn.training.optimizer import make_optimizer

    strategy = make_strategy(config.train.distribute)
    seed_everything(config.train.seed)
    tokenizer = make_tokenizer(config)
    adapt_tokenizer(tokenizer, split.train, config)
    with strategy.scope():
        model = build_training_model(config, tokenizer)
        start_from_language_model(model, config)
        from_tokens = token_id_model(model)
        compile_model(from_tokens, make_optimizer(config, replicated_steps(config, split)))
    return fit_replicated(strategy, config, split, tokenizer, from_tokens, history_csv, verbose)


def replicated_steps(config: Config, split: Split) -> int:
    """Global batches in one epoch of the replicated loop: ``train.steps_per_epoch``, or one pass (no buckets)."""
    return config.train.steps_per_epoch or steps_per_epoch(len(split.train), config.train.batch_size)


def shard_batches(config: Config, train_data: LabelledTexts, context):
    """This worker's endless stream of (text (b,) string, label (b,)) batches.

    Args:
        config: ``train.seed``, ``train.batch_size`` (global) and ``train.bucket_by_length``.
        train_data: the training side (a Dataset or a streamed ``StreamPart``).
        context: a ``tf.distribute.InputContext``: how many input pipelines, which one this is.

    Every worker shuffles with the same seed, then keeps every N-th example
    from its own offset, so the shards are disjoint and together cover the data.
    """
    train = config.train
    examples = example_stream(train_data, train.seed).shard(context.num_input_pipelines, context.input_pipeline_id)
    per_replica = context.get_per_replica_batch_size(train.batch_size)
    return batch_examples(examples, per_replica, train.bucket_by_length).repeat()


def fit_replicated(
    strategy, config: Config, split: Split, tokenizer, from_tokens, history_csv: Path | None, verbose: int | str
):
    """The training loop for both strategies: what Keras ``fit`` does, without it.

    Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585),
    and under ``MirroredStrategy`` when a batch does not split evenly across the
    replicas (as length buckets' last batches do). Here each replica gets whole
    batches of its own (``distribute_datasets_from_function``) and gradients are
    all-reduced dense, so batch sizes and lengths may differ between replicas.

    Args:
        strategy: the strategy (``from_tokens`` was built in its scope).
        config, split: as for ``fit``.
        tokenizer: the adapted tokenizer (every worker adapted the same one).
        from_tokens: the compiled token-id model (see ``models.token_id_model``).
        history_csv: where to write every epoch's metrics (Keras ``CSVLogger``).
        verbose: 0 prints nothing; otherwise one line per epoch.

    Early stopping, the divergence check and the history CSV are the callbacks
    ``fit`` uses, called here at the end of every epoch as ``fit`` would.

    Returns:
        (end-to-end model with the best weights, keras History).

    Raises:
        TrainingDiverged: the loss or the validation loss became NaN or infinite.
    """
    import keras
    import tensorflow as tf

    train = config.train
    replicas = strategy.num_replicas_in_sync
    if train.batch_size % replicas:
        raise SentimentError(
            f"train.batch_size {train.batch_size} cannot be shared by {replicas} replicas: "
            f"use a multiple of {replicas}."
        )
    steps = replicated_steps(config, split)

    def worker_batches(context):
        return tokenized(shard_batches(config, split.train, context), [tokenizer], token_id_cap(config))

    iterator = iter(strategy.distribute_datasets_from_function(worker_batches))
    optimizer = from_tokens.optimizer
    with strategy.scope():
        optimizer.build(from_tokens.trainable_variables)

    two_classes = from_tokens.output.shape[-1] == 1  # a sigmoid head; else a softmax over N classes

    def replica_step(token_ids, labels):
        with tf.GradientTape() as tape:
            probabilities = from_tokens(token_ids, training=True)  # (b, 1), or (b, N)
            if two_classes:
                per_example = keras.losses.binary_crossentropy(labels[:, None], probabilities)  # (b,)
            else:
                per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)  # (b,)
            loss = tf.nn.compute_average_loss(per_example)  # sum / (b * replicas)
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, from_tokens.trainable_variables)]
        optimizer.apply_gradients(zip(gradients, from_tokens.trainable_variables))  # all-reduced inside
        if two_classes:
            correct = tf.cast(tf.equal(probabilities[:, 0] >= 0.5, labels >= 0.5), tf.float32)
        else:
            correct = tf.cast(tf.equal(tf.argmax(probabilities, axis=1), tf.cast(labels, tf.int64)), tf.float32)
        return tf.reduce_sum(per_example), tf.reduce_sum(correct), tf.cast(tf.size(labels), tf.float32)

    @tf.function
    def train_step(iterator):
        results = strategy.run(replica_step, args=next(iterator))
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in results]

    validation = validation_batches(config, split.validation)
    end_to_end = end_to_end_copy(config, tokenizer, from_tokens)  # evaluated, early-stopped and returned
    history = keras.callbacks.History()
    logged = [] if history_csv is None else [history_logger(history_csv)]
    callbacks = keras.callbacks.CallbackList(
        [early_stopping(config), divergence_check(), *logged, history], model=end_to_end
    )
    callbacks.on_train_begin()
    for epoch in range(train.epochs):
        totals, started = np.zeros(3), time.perf_counter()  # summed loss, correct predictions, examples
        for _ in range(steps):
            totals += [float(value) for value in train_step(iterator)]
        seconds = time.perf_counter() - started
        copy_weights(from_tokens, end_to_end)
        scores = end_to_end.evaluate(validation, verbose=0, return_dict=True)
        row = {"loss": totals[0] / totals[2], "accuracy": totals[1] / totals[2]}
        row.update({f"val_{name}": float(value) for name, value in scores.items()})
        if verbose:
            shown = " - ".join(f"{name}: {value:.4f}" for name, value in row.items())
            print(f"Epoch {epoch + 1}/{train.epochs} - {steps} steps in {seconds:.1f} s - {shown}", flush=True)
        callbacks.on_epoch_end(epoch, row)
        if end_to_end.stop_training:
            break
    callbacks.on_train_end()  # early stopping restores the best weights
    return end_to_end, history
