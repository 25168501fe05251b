"""The sentiment-rnn command line: parsing, printing and error translation only.

Each command parses its options, calls one library function and prints the
result. Library errors (SentimentError) become one-line ``Error: ...`` messages
with exit code 1; TensorFlow is imported only inside the commands that need it.
"""

from __future__ import annotations

import json
import sys

import click

from sentiment_rnn import __version__
from sentiment_rnn.data import FORMATS
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


FORMAT_CHOICES = ("auto", *FORMATS)


def data_options(function):
    """The options that name a dataset, shared by `train` and `evaluate` (see data.read_dataset)."""
    options = [
        click.option(
            "--data",
            "data_path",
            type=click.Path(),
            help="Data file, IMDB directory or .tar.gz (default for train: the built-in corpus).",
        ),
        click.option(
            "--format",
            "data_format",
            type=click.Choice(FORMAT_CHOICES),
            help="Format of --data (default: auto, guessed from the path).",
        ),
        click.option("--pos", type=click.Path(), help="Instead of --data: a file of positive texts, one a line."),
        click.option("--neg", type=click.Path(), help="Instead of --data: a file of negative texts, one a line."),
        click.option("--split", type=click.Choice(["train", "test"]), help="IMDB layout only: which split to read."),
        click.option("--text-column", help="Column holding the text (default: text)."),
        click.option("--label-column", help="Column holding the label (default: label)."),
        click.option("--encoding", help="Text encoding of the data (default: utf-8), e.g. cp1252."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def data_overrides(data_path, data_format, pos, neg, split, text_column, label_column, encoding) -> list[str]:
    """The data options given on the command line, as ``data.KEY=VALUE`` config overrides."""
    values = {
        "data.path": data_path,
        "data.format": data_format,
        "data.pos": pos,
        "data.neg": neg,
        "data.split": split,
        "data.text_column": text_column,
        "data.label_column": label_column,
        "data.encoding": encoding,
    }
    return [f"{key}={json.dumps(value)}" for key, value in values.items() if value is not None]


@click.group(cls=SentimentGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sentiment-rnn")
def cli():
    """Train recurrent-network sentiment classifiers and see why word order matters.

    Example usage:

        sentiment-rnn train && sentiment-rnn predict "No, this phone is good"
    """


@cli.command()
@data_options
@click.option("--config", "config_path", type=click.Path(), help="TOML config file (see configs/default.toml).")
@click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config key; repeatable."
)
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N.")
@click.option("--seed", type=click.IntRange(min=0), help="Shortcut for --set train.seed=N.")
@click.option(
    "--embeddings",
    type=click.Path(),
    help="GloVe/word2vec text file to initialise the embedding (shortcut for --set model.embeddings=FILE).",
)
@click.option(
    "--out",
    "out_dir",
    default=DEFAULT_MODEL_DIR,
    show_default=True,
    type=click.Path(),
    help="Model directory to write (replaced atomically).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output; print only the summary.")
def train(config_path, overrides, epochs, seed, embeddings, out_dir, quiet, **data):
    """Train a model and write it to a model directory.

    Reads --data (or the built-in corpus), holds out a validation split,
    trains with early stopping and writes model.keras, config.toml,
    vocabulary.json, metrics.json, history.csv and meta.json to --out.

    Example usage:

        sentiment-rnn train --data reviews.csv --set model.cell=gru --epochs 10 --out my-model

        sentiment-rnn train --config configs/mr.toml --pos rt-polarity.pos --neg rt-polarity.neg --encoding cp1252

        sentiment-rnn train --config configs/imdb.toml --data aclImdb_v1.tar.gz --split train
    """
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training import train as train_model

    shortcuts = {"train.epochs": epochs, "train.seed": seed, "model.embeddings": embeddings}
    all_overrides = (
        list(overrides)
        + data_overrides(**data)
        + [f"{key}={json.dumps(value)}" for key, value in shortcuts.items() if value is not None]
    )
    config = load_config(config_path, all_overrides)
    verbose = 0 if quiet else ("auto" if sys.stdout.isatty() else 2)
    result = train_model(config, out_dir, verbose=verbose)
    metrics = result.metrics
    click.echo(
        f"Saved model to {result.out_dir}: validation accuracy {metrics['accuracy']:.3f}, "
        f"AUC {metrics['auc']:.3f} on {metrics['n']} examples "
        f"(best epoch {result.best_epoch} of {result.epochs_run})."
    )


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


@cli.command()
@model_option
@data_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--errors",
    "errors",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also list the N most confidently wrong examples.",
)
@click.option(
    "--threshold", type=float, default=0.5, show_default=True, help="Probability at or above which a text is positive."
)
def evaluate(model_dir, as_json, errors, threshold, **data):
    """Measure a model on labelled data: accuracy, precision, recall, F1, ROC AUC.

    Reads --data (any format `train` reads) and prints the example count,
    the metrics and the confusion matrix [[tn, fp], [fn, tp]] (rows: true
    label negative, positive; columns: predicted).

    Example usage:

        sentiment-rnn evaluate --model my-model --data test.csv

        sentiment-rnn evaluate --model imdb-model --data aclImdb_v1.tar.gz --split test --json --errors 5
    """
    from sentiment_rnn.config import load_config
    from sentiment_rnn.evaluation import evaluate_data
    from sentiment_rnn.inference import check_threshold

    check_threshold(threshold)
    data_config = load_config(overrides=data_overrides(**data)).data
    result = evaluate_data(model_dir, data_config, errors=errors, threshold=threshold)
    if as_json:
        click.echo(json.dumps(result.to_dict(with_errors=errors > 0), ensure_ascii=False))
        return
    auc = "n/a (one class only)" if result.roc_auc is None else f"{result.roc_auc:.4f}"
    (tn, fp), (fn, tp) = result.confusion
    click.echo(f"n          {result.n}")
    for name in ("accuracy", "precision", "recall", "f1"):
        click.echo(f"{name:<10} {getattr(result, name):.4f}")
    click.echo(f"roc_auc    {auc}")
    click.echo(f"confusion  tn {tn}  fp {fp}  fn {fn}  tp {tp}")
    if errors:
        click.echo(f"Most confidently wrong ({len(result.errors)} of {result.wrong}):")
        for mistake in result.errors:
            truth = "positive" if mistake.label else "negative"
            click.echo(f"  true {truth:<8}  p(positive) {mistake.probability:.4f}  {mistake.text}")
