"""The sentiment-rnn command line: parsing, printing and error translation only.

Each command parses its options, calls one library function and prints the
result. Library errors (SentimentError) become one-line ``Error: ...`` messages
with exit code 1; TensorFlow is imported only inside the commands that need it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading

import click

from sentiment_rnn import __version__
from sentiment_rnn.errors import SentimentError

DEFAULT_MODEL_DIR = "sentiment-model"
MODEL_OPTION_HELP = "Model directory written by `train` (default: ./sentiment-model, or $SENTIMENT_RNN_MODEL)."


class SentimentGroup(click.Group):
    """A click group that turns SentimentError into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SentimentError as exc:
            raise click.ClickException(str(exc)) from None


def model_option(function):
    return click.option(
        "--model",
        "model_dir",
        default=DEFAULT_MODEL_DIR,
        envvar="SENTIMENT_RNN_MODEL",
        show_default=False,
        type=click.Path(file_okay=True, dir_okay=True),
        help=MODEL_OPTION_HELP,
    )(function)


@click.group(cls=SentimentGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sentiment-rnn")
def cli():
    """Train recurrent-network sentiment classifiers and see why word order matters.

    Example usage:

        sentiment-rnn train && sentiment-rnn predict "No, this phone is good"
    """


@cli.command()
@click.option(
    "--data", "data_path", type=click.Path(), help="CSV, TSV or JSON Lines file (default: the built-in corpus)."
)
@click.option("--config", "config_path", type=click.Path(), help="TOML config file (see configs/default.toml).")
@click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config key; repeatable."
)
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N.")
@click.option("--seed", type=click.IntRange(min=0), help="Shortcut for --set train.seed=N.")
@click.option("--text-column", help="Column holding the text (default: text).")
@click.option("--label-column", help="Column holding the label (default: label).")
@click.option("--encoding", help="Text encoding of --data (default: utf-8), e.g. cp1252.")
@click.option(
    "--out",
    "out_dir",
    default=DEFAULT_MODEL_DIR,
    show_default=True,
    type=click.Path(),
    help="Model directory to write (replaced atomically).",
)
@click.option(
    "--on-empty",
    type=click.Choice(["skip", "error"]),
    help="Rows with missing or blank text: skip and count them (default) or stop with an error.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the interrupted run into --out from its last finished epoch (same options and data).",
)
@click.option(
    "--distribute",
    type=click.Choice(["none", "mirrored", "multi-worker"]),
    help="Shortcut for --set train.distribute=...: this machine's devices, or a cluster of workers.",
)
@click.option(
    "--workers", metavar="HOST:PORT,...", help="Multi-worker cluster, the same list on every worker (else TF_CONFIG)."
)
@click.option(
    "--worker-index", type=click.IntRange(min=0), default=0, show_default=True, help="This worker's place in --workers."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output; print only the summary.")
def train(
    data_path,
    config_path,
    overrides,
    epochs,
    seed,
    text_column,
    label_column,
    encoding,
    on_empty,
    out_dir,
    resume,
    distribute,
    workers,
    worker_index,
    quiet,
):
    """Train a model and write it to a model directory.

    Reads --data (or the built-in corpus), holds out a validation split,
    trains with early stopping and writes model.keras, config.toml,
    vocabulary.json, metrics.json, history.csv and meta.json to --out.
    The previous --out stays intact until the new one is complete; after an
    interruption (Ctrl-C, a kill), run the same command with --resume.

    Example usage:

        sentiment-rnn train --data reviews.csv --set model.cell=gru --epochs 10 --out my-model

        sentiment-rnn train --data reviews.csv --set model.cell=gru --epochs 10 --out my-model --resume

        sentiment-rnn train --data big.csv --set data.streaming=true --set train.bucket_by_length=true

        sentiment-rnn train --distribute multi-worker --workers host1:2222,host2:2222 --worker-index 0
    """
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training import train as train_model

    shortcuts = {
        "data.path": data_path,
        "data.text_column": text_column,
        "data.label_column": label_column,
        "data.encoding": encoding,
        "data.on_empty": on_empty,
        "train.epochs": epochs,
        "train.seed": seed,
        "train.distribute": distribute,
    }
    all_overrides = list(overrides) + [
        f"{key}={json.dumps(value)}" for key, value in shortcuts.items() if value is not None
    ]
    config = load_config(config_path, all_overrides)
    multi_worker = config.train.distribute == "multi-worker"
    if workers is not None:
        if not multi_worker:
            raise SentimentError("--workers describes a multi-worker cluster: add --distribute multi-worker.")
        from sentiment_rnn.distributed import use_cluster

        use_cluster(workers, worker_index)
    if multi_worker:
        from sentiment_rnn.distributed import cluster_spec

        cluster_spec()  # before reading any data: say now if the cluster is not described
    verbose = 0 if quiet else ("auto" if sys.stdout.isatty() else 2)
    try:
        with _sigterm_as_interrupt():  # `kill PID` cleans up like Ctrl-C
            result = train_model(config, out_dir, verbose=verbose, resume=resume)
    except KeyboardInterrupt:
        click.echo(
            f"Interrupted: {out_dir} was not changed; to continue, run the same command with --resume.", err=True
        )
        sys.exit(130)
    if result.skipped:
        rows = "row" if result.skipped == 1 else "rows"
        click.echo(f"Skipped {result.skipped} {rows} with empty text (--on-empty error refuses them).")
    metrics = result.metrics
    if multi_worker:
        from sentiment_rnn.distributed import is_chief

        if not is_chief():
            click.echo(f"Worker done: validation accuracy {metrics['accuracy']:.3f}; the chief writes {out_dir}.")
            return
    click.echo(
        f"Saved model to {result.out_dir}: validation accuracy {metrics['accuracy']:.3f}, "
        f"AUC {metrics['auc']:.3f} on {metrics['n']} examples "
        f"(best epoch {result.best_epoch} of {result.epochs_run})."
    )


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Turn SIGTERM into KeyboardInterrupt while the body runs (main thread only), then restore the handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@cli.command()
@model_option
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    help="Read one text per line from a file, or - for standard input.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: text, label, probability.")
@click.option(
    "--threshold", type=float, default=0.5, show_default=True, help="Probability at or above which a text is positive."
)
def predict(model_dir, texts, file, as_json, threshold):
    """Predict the sentiment of texts.

    Prints the label and the probability of positive for each text given as
    an argument, or for each line of --file.

    Example usage:

        sentiment-rnn predict "I like this phone" "This phone is no good"

        cat reviews.txt | sentiment-rnn predict --file - --json
    """
    from sentiment_rnn.inference import check_threshold
    from sentiment_rnn.inference import predict as predict_texts

    check_threshold(threshold)
    texts = list(texts)
    if file is not None:
        try:
            texts.extend(line.rstrip("\r\n") for line in file)
        except UnicodeDecodeError:
            raise SentimentError(f"{file.name} is not valid UTF-8: convert it to UTF-8 first.") from None
    if not texts:
        raise SentimentError('No text to predict: pass texts as arguments (predict "great phone") or use --file.')
    for prediction in predict_texts(model_dir, texts, threshold=threshold):
        if as_json:
            click.echo(json.dumps(prediction.to_dict(), ensure_ascii=False))
        else:
            click.echo(f"{prediction.label:<8}  {prediction.probability:.4f}  {prediction.text}")
