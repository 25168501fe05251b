"""The sentiment-rnn command line: parsing, printing and error translation only.

Each command parses its options, calls one library function and prints the
result. Library errors (SentimentError) become one-line ``Error: ...`` messages
with exit code 1; TensorFlow is imported only inside the commands that need it.

Longer than 400 lines because every command's options and help text live here,
one block per command; the work itself is in the library modules.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shlex
import signal
import sys
import threading

import click

from sentiment_rnn import progress
from sentiment_rnn.config import FORMATS, options_as_overrides, toml_value
from sentiment_rnn.errors import SentimentError
from sentiment_rnn.export import EXPORT_FORMATS
from sentiment_rnn.finite import json_text
from sentiment_rnn.presets import DEFAULT_PRESET, preset_names
from sentiment_rnn.safe_read import file_type
from sentiment_rnn.version import __version__

DEFAULT_MODEL_DIR = "sentiment-model"
MODEL_ENVIRONMENT_VARIABLE = "SENTIMENT_RNN_MODEL"
MODEL_OPTION_HELP = (
    "Model directory written by `train`, or reviews-en, the bundled model; an existing path wins over the name. "
    "Default: $SENTIMENT_RNN_MODEL, else ./sentiment-model if it exists, else reviews-en (said on stderr)."
)


class SentimentGroup(click.Group):
    """A click group that turns SentimentError into a one-line message and exit code 1.

    It is also the one place for faults of the process itself: an argument
    holding a NUL byte is refused before parsing, output that cannot be
    written (a full disk) is one ``Error:`` line and exit 1, a closed pipe
    (``predict ... | head -1``) ends quietly with exit 1, as click does, and a
    character stdout's encoding cannot carry is written as a backslash escape
    (``--json`` output escapes it in JSON's own way: ``finite.json_text``).
    """

    def main(self, args=None, *rest, **extra):
        for stream in (sys.stdout, sys.stderr):  # a character the output cannot carry is escaped, never a traceback
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")
        arguments = sys.argv[1:] if args is None else list(args)
        if any("\0" in str(argument) for argument in arguments):
            click.echo("Error: An argument holds a NUL byte (\\0), which no path or option can: remove it.", err=True)
            sys.exit(1)
        try:
            try:
                return super().main(args, *rest, **extra)
            finally:
                sys.stdout.flush()  # a failed write of the last lines surfaces here, not at interpreter exit
        except OSError as exc:
            sys.stdout = open(os.devnull, "w")  # what could not be written is lost; no second error at exit
            if exc.errno != errno.EPIPE:
                reason = exc.strerror or str(exc)
                click.echo(
                    f"Error: Cannot write the output ({reason}): free some space or write it elsewhere.", err=True
                )
            sys.exit(1)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SentimentError as exc:
            raise click.ClickException(str(exc)) from None


class InputFile(click.File):
    """``click.File`` for reading, whose missing or unreadable file is an ``Error:`` line with exit 1.

    The rule for every path option: a path that cannot be read is a user
    error (exit 1), as it is for --data, --config and --model; exit 2 is kept
    for usage errors (an unknown option, a missing value).
    """

    def convert(self, value, param, ctx):
        name = param.opts[0] if param is not None else "the path"
        try:
            handle = super().convert(value, param, ctx)
        except click.BadParameter as exc:
            reason = exc.message.rstrip(".").split(": ", 1)[-1]
            raise click.ClickException(f"Cannot read {name} {value}: {reason}; check the path.") from None
        try:
            descriptor = handle.fileno()
            what = None if os.isatty(descriptor) else file_type(os.fstat(descriptor).st_mode)
        except (AttributeError, OSError, ValueError):  # not a real file (a test's stream)
            what = None
        if what in ("a device", "a directory"):  # /dev/zero never ends; a FIFO or pipe is read as a stream
            handle.close()
            raise click.ClickException(
                f"Cannot read {name} {value}: it is {what}, not a file of texts; pass a file, or - for standard input."
            )
        return handle


def model_option(function=None, *, multiple: bool = False):
    """The --model option; without it (and $SENTIMENT_RNN_MODEL), the default model of ``bundled.default_model``.

    The command receives ``model_dir`` as given (a path or a bundled name, resolved
    when the model is opened); with ``multiple``, a tuple of them, in the order
    given (the environment variable is one path, as it is without ``multiple``).
    When the bundled model answers by default, one line says so on stderr,
    unless the command's --quiet is given.
    """
    if function is None:
        return lambda function: model_option(function, multiple=multiple)

    def default(quiet: bool) -> str:
        from sentiment_rnn.bundled import default_model

        if multiple and os.environ.get(MODEL_ENVIRONMENT_VARIABLE):
            return os.environ[MODEL_ENVIRONMENT_VARIABLE]
        model_dir, notice = default_model(DEFAULT_MODEL_DIR)
        if notice is not None and not quiet:
            click.echo(notice, err=True)
        return model_dir

    @functools.wraps(function)
    def with_default(*args, model_dir, **kwargs):
        if not model_dir:
            model_dir = (default(kwargs.get("quiet")),) if multiple else default(kwargs.get("quiet"))
        return function(*args, model_dir=model_dir, **kwargs)

    return click.option(
        "--model",
        "model_dir",
        default=None,
        multiple=multiple,
        envvar=None if multiple else MODEL_ENVIRONMENT_VARIABLE,  # click would split a multiple's value at ":"
        show_default=False,
        type=click.Path(file_okay=True, dir_okay=True),
        help=MODEL_OPTION_HELP + (" Repeat it to measure several models on the same data." if multiple else ""),
    )(with_default)


def threshold_option(function):
    return click.option(
        "--threshold",
        type=float,
        default=0.5,
        show_default=True,
        help="Probability at or above which a text is positive.",
    )(function)


def engine_option(help: str):
    """``--engine numpy|keras`` (numpy by default), with the command's own ``help``."""
    return click.option(
        "--engine", type=click.Choice(["numpy", "keras"]), default="numpy", show_default=True, help=help
    )


FORMAT_CHOICES = ("auto", *FORMATS)


def data_options(function=None, *, data_help="Data file, IMDB directory or .tar.gz (default: the built-in corpus)."):
    """The options that name a dataset, shared by `train` and `evaluate` (see data.read_dataset).

    Use as ``@data_options``, or ``@data_options(data_help=...)`` for a command whose --data has no default.
    """
    if function is None:
        return lambda function: data_options(function, data_help=data_help)
    options = [
        click.option(
            "--data",
            "data_path",
            type=click.Path(),
            multiple=True,
            help=data_help
            + " Repeat it to read several, each with the options given (or [[data.sources]] in --config).",
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
        click.option(
            "--positive",
            metavar="LABELS",
            help="Labels that mean positive, comma-separated, e.g. 4,5 (with --negative; rows with other labels are "
            "skipped).",
        ),
        click.option("--negative", metavar="LABELS", help="Labels that mean negative, e.g. 1,2 (with --positive)."),
        click.option(
            "--labels",
            metavar="CLASSES",
            help="The classes, in order, e.g. negative,neutral,positive (default: learned from the data; "
            "numbers keep their numeric order). More than two give a softmax model.",
        ),
        click.option(
            "--label-map",
            metavar="MAP",
            help="Group labels into classes, e.g. '1,2=negative;3=neutral;4,5=positive' (rows with other labels "
            "are skipped).",
        ),
        click.option(
            "--on-empty",
            type=click.Choice(["skip", "error"]),
            help="Rows with missing or blank text: skip and count them (default) or stop with an error.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def data_overrides(
    data_path,
    data_format,
    pos,
    neg,
    split,
    text_column,
    label_column,
    encoding,
    on_empty,
    positive,
    negative,
    labels=None,
    label_map=None,
) -> list[str]:
    """The data options given on the command line, as ``data.KEY=VALUE`` config overrides.

    One ``--data`` sets ``data.path``; several set ``data.sources``, one table
    per path, each with the other options given.
    """
    paths = list(data_path or ())
    if len(paths) > 1:
        shared = {
            "format": data_format,
            "split": split,
            "text_column": text_column,
            "label_column": label_column,
            "encoding": encoding,
            "on_empty": on_empty,
        }
        given = {key: value for key, value in shared.items() if value is not None}
        tables = [{"path": path, **given} for path in paths]
        if pos or neg:  # the pos/neg pair is one more source
            tables.append({"pos": pos or "", "neg": neg or "", **given})
        inline = ", ".join("{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in t.items()) + "}" for t in tables)
        return [f"data.sources=[{inline}]"] + options_as_overrides(
            {"data.positive": positive, "data.negative": negative, "data.labels": labels, "data.label_map": label_map}
        )
    values = {
        "data.path": paths[0] if paths else None,
        "data.format": data_format,
        "data.pos": pos,
        "data.neg": neg,
        "data.split": split,
        "data.text_column": text_column,
        "data.label_column": label_column,
        "data.encoding": encoding,
        "data.on_empty": on_empty,
        "data.positive": positive,
        "data.negative": negative,
        "data.labels": labels,
        "data.label_map": label_map,
    }
    return options_as_overrides(values)


@click.group(cls=SentimentGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sentiment-rnn")
def cli():
    """Train recurrent-network sentiment classifiers and see why word order matters.

    Example usage:

    \b
        sentiment-rnn train && sentiment-rnn predict "No, this phone is good"
    """


@cli.command()
@data_options
@click.option(
    "--config",
    "config_path",
    type=click.Path(),
    help="TOML config file (default: configs/finetune.toml on data of your own, else configs/default.toml; see "
    "Which model above).",
)
@click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config key; repeatable."
)
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N.")
@click.option("--seed", type=click.IntRange(min=0), help="Shortcut for --set train.seed=N.")
@click.option(
    "--ensemble",
    type=click.IntRange(min=1),
    help="Train N models from different seeds into one model directory; they answer with their mean "
    "probability (train.ensemble).",
)
@click.option(
    "--test-split",
    type=click.FloatRange(0.0, 0.5, max_open=True),
    help="Hold out this fraction (seeded) as a test part that early stopping never sees (train.test_split).",
)
@click.option(
    "--test-data",
    type=click.Path(),
    help="Measure the trained model once on this file, read like --data (data.test_path).",
)
@click.option(
    "--embeddings",
    type=click.Path(),
    help="GloVe/word2vec text file to initialise the embedding (shortcut for --set model.embeddings=FILE).",
)
@click.option(
    "--init-from",
    type=click.Path(),
    help="Start from this language model (`pretrain`, or reviews-lm): its vocabulary, embedding and recurrent "
    "layers, fine-tuned on --data (shortcut for --set model.init_from=DIR).",
)
@click.option(
    "--out",
    "out_dir",
    default=DEFAULT_MODEL_DIR,
    show_default=True,
    type=click.Path(),
    help="Model directory to write (replaced atomically); always a path, never a bundled model.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the interrupted run into --out from its last finished epoch (same options and data).",
)
@click.option(
    "--tensorboard",
    "tensorboard_dir",
    type=click.Path(file_okay=False),
    help="Also log to this directory for TensorBoard (needs the tensorboard package).",
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
@click.option("-q", "--quiet", is_flag=True, help="No progress or warnings on stderr; print only the summary.")
def train(
    config_path,
    overrides,
    epochs,
    seed,
    ensemble,
    test_split,
    test_data,
    embeddings,
    init_from,
    out_dir,
    resume,
    tensorboard_dir,
    distribute,
    workers,
    worker_index,
    quiet,
    **data,
):
    """Train a model and write it to a model directory.

    Reads --data (or the built-in corpus), holds out a validation split,
    trains with early stopping and writes model.keras, config.toml,
    vocabulary.json, metrics.json, history.csv, training.png (with
    matplotlib) and meta.json to --out (with --ensemble N, N such model
    directories under members/ and the ensemble's own config.toml,
    vocabulary.json, metrics.json and meta.json). Progress goes to stderr when it is a
    terminal; stdout gets only the summary. The previous --out stays intact
    until the new one is complete; after an interruption (Ctrl-C, a kill), run
    the same command with --resume. A validation AUC under 0.6 (the model
    learned little) ends with a warning on stderr saying what usually helps.

    Which model: on data of your own (--data, --pos/--neg) with no --config
    and no model.* or tokenizer.* key set, the finetune preset
    (configs/finetune.toml): a GRU of 256 units that starts from the bundled
    language model reviews-lm, as a line on stderr says after the summary.
    On the built-in corpus, or with --config configs/default.toml or a
    model key (--set model.cell=gru), the small SimpleRNN of
    configs/default.toml, trained from scratch. Train keys (--epochs, --seed,
    --set train.KEY=...) apply on top of either.

    Example usage:

    \b
        sentiment-rnn train --data reviews.csv --out my-model
        sentiment-rnn train --data reviews.csv --config configs/default.toml
        sentiment-rnn train --set model.cell=gru --set model.layers=2
        sentiment-rnn train --data reviews.csv --out my-model --ensemble 5
        sentiment-rnn train --data reviews.csv --out my-model --resume
        sentiment-rnn train --data stars.csv --positive 4,5 --negative 1,2
        sentiment-rnn train --data reviews.csv --test-split 0.1 --epochs 10
        sentiment-rnn train --data my.csv --config ft.toml --init-from my-lm
        sentiment-rnn train --tensorboard logs && tensorboard --logdir logs
        sentiment-rnn train --data big.csv --set data.streaming=true
        sentiment-rnn train --distribute multi-worker --workers h1:2222,h2:2222
        sentiment-rnn train --config configs/mr.toml --pos mr.pos --neg mr.neg
        sentiment-rnn train --config configs/imdb.toml --data imdb --split train
    """
    from sentiment_rnn.bundled import BUNDLED_MODELS
    from sentiment_rnn.data.labels import DEFAULT_CLASSES
    from sentiment_rnn.plots import MISSING_HINT
    from sentiment_rnn.presets import train_config
    from sentiment_rnn.training.run import learned_little
    from sentiment_rnn.training.run import train as train_model

    shortcuts = {
        "train.epochs": epochs,
        "train.seed": seed,
        "train.ensemble": ensemble,
        "train.distribute": distribute,
        "model.embeddings": embeddings,
        "model.init_from": init_from,
        "train.test_split": test_split,
        "data.test_path": test_data,
    }
    all_overrides = list(overrides) + data_overrides(**data) + options_as_overrides(shortcuts)
    config, notice = train_config(config_path, all_overrides)
    try:
        with _sigterm_as_interrupt():  # `kill PID` cleans up like Ctrl-C
            result = train_model(
                config,
                out_dir,
                verbose=progress.keras_verbose(quiet),
                resume=resume,
                tensorboard_dir=tensorboard_dir,
                quiet=quiet,
                workers=workers,
                worker_index=worker_index,
            )
    except KeyboardInterrupt:
        click.echo(
            f"Interrupted: {out_dir} was not changed; to continue, run the same command with --resume.", err=True
        )
        sys.exit(130)
    if result.plot is None and not quiet:
        click.echo(MISSING_HINT, err=True)
    if result.skipped:
        rows = "row" if result.skipped == 1 else "rows"
        click.echo(f"Skipped {result.skipped} {rows} with empty text (--on-empty error refuses them).")
    if result.other_labels:
        rows = "row" if result.other_labels == 1 else "rows"
        outside = result.label_map_option.replace(" or ", " and ")
        click.echo(f"Skipped {result.other_labels} {rows} with labels outside {outside}.")
    metrics = result.metrics
    if not result.wrote_model_dir:
        click.echo(f"Worker done: validation accuracy {metrics['accuracy']:.3f}; the chief writes {out_dir}.")
        return
    if result.member_epochs:
        best = ", ".join(str(best) for best, _ in result.member_epochs)
        epochs_note = f"an ensemble of {len(result.member_epochs)}; best epochs {best}"
    else:
        epochs_note = f"best epoch {result.best_epoch} of {result.epochs_run}"
    auc = f"AUC {metrics['auc']:.3f}, " if "auc" in metrics else ""
    click.echo(
        f"Saved model to {result.out_dir}: validation accuracy {metrics['accuracy']:.3f}, "
        f"{auc}ECE {metrics['ece']:.3f}, Brier {metrics['brier']:.3f} on {metrics['n']} examples "
        f"({epochs_note})."
    )
    if result.classes != DEFAULT_CLASSES:
        counts = ", ".join(f"{name} {count:,}" for name, count in result.class_counts.items())
        click.echo(f"Classes: {counts} (--labels or --label-map names them).")
    if result.test_metrics is not None:
        test = result.test_metrics
        auc = f", AUC {test['auc']:.3f}" if "auc" in test else ""
        click.echo(f"Test: accuracy {test['accuracy']:.3f}{auc} on {test['n']} held-out examples.")
    if notice is not None:  # on stderr after the summary, as a user error stays one line
        progress.warn(notice, quiet=quiet)
    weak = learned_little(metrics)
    if weak is not None:  # on stderr, after the summary
        progress.warn(weak, quiet=quiet)
    if out_dir in BUNDLED_MODELS and not quiet:  # --out is a path: the bundled model is never written
        click.echo(
            f"Note: --out {out_dir} is the path ./{out_dir}, not the bundled model (read-only); from this directory, "
            f"--model {out_dir} now means ./{out_dir}.",
            err=True,
        )


@cli.command()
@click.option(
    "--data",
    "data_paths",
    type=click.Path(),
    multiple=True,
    required=True,
    help="Text to learn from: one text a line (plain or .gz), or a file or IMDB layout `train` reads (labels "
    "ignored). Repeatable.",
)
@click.option(
    "--format",
    "data_format",
    type=click.Choice(FORMAT_CHOICES),
    help="Read --data as this format of `train`'s (default: .csv/.tsv/.jsonl/IMDB by the path, else one text a line).",
)
@click.option("--text-column", default="text", show_default=True, help="Column holding the text, for tables.")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of --data, e.g. cp1252.")
@click.option(
    "--config", "config_path", type=click.Path(), help='TOML config with model.kind = "lm" (default: the lm preset).'
)
@click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config key; repeatable."
)
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N.")
@click.option("--seed", type=click.IntRange(min=0), help="Shortcut for --set train.seed=N.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(),
    help="Language model directory to write (replaced atomically).",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted run into --out from its last finished epoch.")
@click.option(
    "--init-from",
    type=click.Path(),
    help="Go on training this language model (its vocabulary and weights), e.g. on your own domain's text "
    "(shortcut for --set model.init_from=DIR).",
)
@click.option(
    "--distribute",
    type=click.Choice(["none", "mirrored"]),
    help="Shortcut for --set train.distribute=...: mirrored spreads each step over this machine's devices.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; print only the summary.")
def pretrain(
    data_paths,
    data_format,
    text_column,
    encoding,
    config_path,
    overrides,
    epochs,
    seed,
    out_dir,
    resume,
    init_from,
    distribute,
    quiet,
):
    """Train a language model on text without labels: it learns to guess the next word.

    Reads every --data as one stream of texts, holds out one text in 50
    (train.validation_split) to measure perplexity, and trains a recurrent
    network to predict each next token (truncated backpropagation through
    time, a sampled softmax over tied embeddings). Writes a model directory
    (model.keras, config.toml, vocabulary.json, weights.npz, metrics.json,
    history.csv, training.png, meta.json) for `guess` and for
    `train --init-from`. Progress (tokens/s, loss, perplexity) goes to stderr
    on a terminal; Ctrl-C keeps the last finished epoch for --resume.

    Example usage:

    \b
        sentiment-rnn pretrain --data unlabelled.txt.gz --out my-lm
        sentiment-rnn pretrain --data a.txt --data b.csv --text-column t --out lm
        sentiment-rnn pretrain --data unlabelled.txt.gz --out my-lm --resume
        sentiment-rnn pretrain --data my.csv --init-from reviews-lm --out my-lm
        sentiment-rnn guess --model my-lm "The food was ___ and the service slow"
        sentiment-rnn train --data my.csv --init-from my-lm --out my-model
    """
    from sentiment_rnn.config import load_config
    from sentiment_rnn.presets import preset_path
    from sentiment_rnn.training.language import TextFiles
    from sentiment_rnn.training.language import pretrain as pretrain_model

    shortcuts = {
        "train.epochs": epochs,
        "train.seed": seed,
        "train.distribute": distribute,
        "model.init_from": init_from,
    }
    config = load_config(config_path or preset_path("lm"), list(overrides) + options_as_overrides(shortcuts))
    files = TextFiles(tuple(data_paths), data_format or "auto", text_column, encoding)
    try:
        with _sigterm_as_interrupt():
            result = pretrain_model(config, files, out_dir, verbose=progress.keras_verbose(quiet), resume=resume)
    except KeyboardInterrupt:
        click.echo(
            f"Interrupted: {out_dir} was not changed; to continue from the last finished epoch, run the same "
            "command with --resume.",
            err=True,
        )
        sys.exit(130)
    corpus, metrics = result.corpus, result.metrics
    click.echo(
        f"Saved language model to {result.out_dir}: held-out perplexity {metrics['perplexity']:.1f} on "
        f"{metrics['tokens']:,} tokens of {metrics['texts']:,} texts (best epoch {result.best_epoch} of "
        f"{result.epochs_run}; trained on {corpus.train_tokens:,} tokens, {len(corpus.vocabulary):,} words"
        + (f", {result.tokens_per_second:,.0f} tokens/s)." if result.tokens_per_second else ").")
    )


@cli.command()
@click.argument("text")
@click.option(
    "--model",
    "model_dir",
    default="reviews-lm",
    show_default=True,
    type=click.Path(),
    help="Language model directory written by `pretrain`, or reviews-lm, the bundled one.",
)
@click.option("-k", "--k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="How many guesses.")
@click.option(
    "--bow",
    is_flag=True,
    help="Also guess on the text's words sorted: all a bag of words sees of it (order gone).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (a list of two with --bow).")
@engine_option("numpy runs without TensorFlow; keras runs model.keras (same probabilities).")
def guess(text, model_dir, k, bow, as_json, engine):
    """Guess the missing word (___) of a sentence, or the next word, with a language model.

    Each candidate for the blank is scored with the whole sentence, the words
    after the blank too; the probabilities are shared among the 1,000 words
    most probable after the words before it. Without a blank, the next word
    is guessed. A bag of words cannot play this game: --bow shows the same
    model on the words sorted, which is all a bag of words has.

    Example usage:

    \b
        sentiment-rnn guess "In France the people speak the ___ language"
        sentiment-rnn guess --bow "In France the people speak the ___ language"
        sentiment-rnn guess --model my-lm --k 10 --json "It broke after a ___"
        sentiment-rnn guess "The food was great and the service"
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.guessing import guess as guess_words
    from sentiment_rnn.guessing import sorted_words

    directory = open_model_dir(model_dir)
    results = [guess_words(directory, text, k, engine)]
    if bow:
        results.append(guess_words(directory, sorted_words(text), k, engine))
    if as_json:
        payload = [result.to_dict() for result in results]
        click.echo(json_text(payload if bow else payload[0]))
        return
    for number, result in enumerate(results):
        if number:
            click.echo("\nThe same words sorted, as a bag of words has them:")
        click.echo(result.text)
        what = "the blank" if result.blank else "the next word"
        for rank, choice in enumerate(result.guesses, start=1):
            click.echo(f"{rank:>3}. {choice.word:<16} {choice.probability:.4f}")
        if result.unknown:
            click.echo(
                f"    (outside the vocabulary, read as unknown: {', '.join(result.unknown)}; guesses are for {what})"
            )


@cli.command()
@data_options
@click.option("--config", "config_path", type=click.Path(), help="Base TOML config: every key not searched.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override one config key; a searched key set here is not searched. Repeatable.",
)
@click.option("--trials", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many trials.")
@click.option(
    "--timeout",
    "timeout_minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="Start no trial after this many minutes (a running trial finishes).",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N (each trial).")
@click.option("--seed", type=click.IntRange(min=0), help="Shortcut for --set train.seed=N (split and sampler).")
@click.option(
    "--out",
    "out_path",
    default="tuned.toml",
    show_default=True,
    type=click.Path(),
    help="The best config, as a commented TOML for train --config (replaced atomically).",
)
@click.option("-q", "--quiet", is_flag=True, help="No line per trial on stderr; print only the summary.")
def tune(config_path, overrides, trials, timeout_minutes, epochs, seed, out_path, quiet, **data):
    """Search model and training settings on the validation split; write the best config.

    Each trial trains one config drawn by Optuna (cell, layers, units,
    bidirectional, pooling, embedding size, dropout, learning rate, batch
    size, weight averaging (train.ema), model.kind rnn or hybrid, and for
    hybrid ngrams and wide_scale) on the same seeded split, scored by the
    validation accuracy of its best epoch. One line per trial goes to stderr.
    Ctrl-C stops the search and keeps the best trial so far. Needs optuna:
    pip install 'sentiment-rnn[tune]'.

    Example usage:

    \b
        sentiment-rnn tune --data reviews.csv --trials 3 --epochs 2
        sentiment-rnn tune --data reviews.csv --trials 30 --out tuned.toml
        sentiment-rnn train --config tuned.toml --out tuned-model
    """
    from sentiment_rnn.artifact.atomic import check_file_target, write_file_atomically
    from sentiment_rnn.config import load_config, parse_override
    from sentiment_rnn.tuning import describe, tuned_toml
    from sentiment_rnn.tuning import tune as run_search

    shortcuts = {"train.epochs": epochs, "train.seed": seed}
    all_overrides = list(overrides) + data_overrides(**data) + options_as_overrides(shortcuts)
    config = load_config(config_path, all_overrides)
    check_file_target(out_path)
    fixed = [".".join(parse_override(override)[:2]) for override in overrides]

    def report(trial, best, asked):
        if quiet:
            return
        if trial.accuracy is None:
            outcome = f"failed ({trial.failure})"
        else:
            outcome = f"validation accuracy {trial.accuracy:.4f} (best epoch {trial.best_epoch} of {trial.epochs_run})"
        best_part = f"; best {best.accuracy:.4f} (trial {best.number})" if best is not None else ""
        click.echo(
            f"trial {trial.number}/{asked}: {outcome} in {trial.seconds:.0f} s{best_part}  {describe(trial.params)}",
            err=True,
        )

    try:
        with _sigterm_as_interrupt():
            result = run_search(config, trials, timeout_minutes, fixed=fixed, report=report)
    except KeyboardInterrupt:
        click.echo(f"Interrupted before any trial finished: {out_path} was not written.", err=True)
        sys.exit(130)
    command = ["sentiment-rnn", "tune", *(["--config", config_path] if config_path else [])]
    command += [part for override in all_overrides for part in ("--set", override)]
    command += ["--trials", str(trials), *(["--timeout", f"{timeout_minutes:g}"] if timeout_minutes else [])]
    write_file_atomically(out_path, tuned_toml(result, shlex.join(command)))
    finished = sum(t.accuracy is not None for t in result.trials)
    ended = " (stopped by Ctrl-C)" if result.interrupted else " (stopped by --timeout)" if result.timed_out else ""
    click.echo(
        f"Best of {finished} finished {'trial' if finished == 1 else 'trials'}{ended}: validation accuracy "
        f"{result.best.accuracy:.4f} (trial {result.best.number}); wrote {out_path}. "
        f"Train it: sentiment-rnn train --config {out_path}"
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
    type=InputFile("r", encoding="utf-8"),
    help="Read one text per line from a file, or - for standard input.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per line: text, label, probability, oov_rate (share of its words outside the vocabulary).",
)
@threshold_option
@engine_option("numpy: the forward pass in NumPy, no TensorFlow (fast start); keras: load model.keras with TensorFlow.")
@click.option(
    "--per-token",
    is_flag=True,
    help="Also print the probability after each token, with a bar (recurrent models only).",
)
@click.option(
    "--stream",
    "stream",
    type=InputFile("r", encoding="utf-8"),
    metavar="FILE",
    help="Read ONE long document from FILE (or -) in chunks, carrying the state; unidirectional models only.",
)
@click.option(
    "--chunk-tokens",
    type=click.IntRange(min=1),
    metavar="N",
    help="Tokens per chunk for --stream (default: 1000).",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(),
    help="Score a data file (any format train reads), keeping its columns; see --output.",
)
@click.option("--format", "data_format", type=click.Choice(FORMAT_CHOICES), help="Format of --data (default: auto).")
@click.option("--split", type=click.Choice(["train", "test"]), help="IMDB layout only: which split to score.")
@click.option("--text-column", help="Column of --data holding the text (default: text).")
@click.option("--encoding", help="Text encoding of --data (default: utf-8), e.g. cp1252.")
@click.option(
    "--output",
    metavar="FILE",
    help="Where --data's scored rows go: a .csv, .tsv or .jsonl file, or - for stdout (default).",
)
@click.option(
    "--output-format", type=click.Choice(["csv", "tsv", "jsonl"]), help="Format of --output (default: by suffix)."
)
@click.option(
    "--oov",
    is_flag=True,
    help="With --json: add each text's unknown_tokens (its tokens outside the model's vocabulary).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar on stderr.")
def predict(
    model_dir,
    texts,
    file,
    as_json,
    threshold,
    engine,
    per_token,
    stream,
    chunk_tokens,
    data_path,
    data_format,
    split,
    text_column,
    encoding,
    output,
    output_format,
    oov,
    quiet,
):
    """Predict the sentiment of texts.

    Prints the label and the probability of positive for each text given as
    an argument, or for each line of --file, or of standard input when it is
    piped and no text is given (on many lines, a progress bar goes to stderr
    when it is a terminal). The NumPy engine (default) needs
    no TensorFlow and gives the same probabilities as --engine keras (to 1e-5).
    Without --model, ./sentiment-model answers if it exists, else the
    bundled reviews-en (general English reviews), said once on stderr.

    --per-token adds a line per token: the probability after reading it (a
    bidirectional model's per-token view also reads the text backwards); for
    a two-class hybrid model, also the log-odds of its recurrent branch and
    of the n-grams read so far; a model of more than two classes shows the
    most probable class after each token and its probability. --stream reads
    one long document piece by piece, never holding it whole, and prints its
    label, probability, token count and chunk count. --json names the model
    that answered in a model field.

    A model of more than two classes prints the most probable class and its
    probability; --json adds every class's probability, --data a column per
    class, and --threshold is refused.

    An empty text argument is refused: it has no sentiment. When most of a
    text's words are outside the model's vocabulary, its answer says little:
    one warning on stderr says how many texts, and --json gives each text's
    oov_rate (the share of its words read as [UNK]).

    --data scores a table (any format train reads): every input column is
    kept and label, probability and oov_rate are added (predicted_label,
    predicted_probability and predicted_oov_rate if the input has such
    columns); rows with empty text get an empty prediction and are counted. --output FILE writes CSV,
    TSV or JSON Lines by its suffix (or --output-format); the default, -,
    writes CSV to stdout. Files and tables are streamed a batch at a time,
    so memory stays flat however long they are.

    Example usage:

    \b
        sentiment-rnn predict "I like this phone" "This phone is no good"
        sentiment-rnn predict --model reviews-en "The battery died within a day"
        sentiment-rnn predict --per-token "No, this phone is good"
        cat reviews.txt | sentiment-rnn predict --json
        sentiment-rnn predict --data reviews.csv --output scored.csv
        sentiment-rnn predict --stream book.txt --chunk-tokens 500
    """
    from sentiment_rnn.artifact.model_directory import open_model_dir
    from sentiment_rnn.inference import (
        DEFAULT_CHUNK_TOKENS,
        MOSTLY_UNKNOWN,
        check_texts_given,
        check_threshold,
        mostly_unknown_warning,
        predict_per_token,
        predict_stream,
    )
    from sentiment_rnn.scoring import ADDED_COLUMNS, batches_of_lines, score_lines, score_table

    if data_path is not None:
        from sentiment_rnn.config import load_config
        from sentiment_rnn.data.batches import input_size

    check_threshold(threshold)
    check_texts_given(texts)
    if stream is not None:
        if texts or file is not None or data_path is not None:
            raise SentimentError("--stream reads one document on its own: pass texts or --file, or --stream, not both.")
        if per_token:
            raise SentimentError(
                "--per-token cannot be combined with --stream: a stream prints one result for the whole document."
            )
        try:
            result = predict_stream(
                model_dir, stream, chunk_tokens or DEFAULT_CHUNK_TOKENS, threshold=threshold, engine=engine
            )
        except UnicodeDecodeError:
            raise SentimentError(f"{stream.name} is not valid UTF-8: convert it to UTF-8 first.") from None
        if as_json:
            click.echo(json_text(result.to_dict()))
        else:
            terms = ""
            if result.parts is not None:
                recurrent, ngrams, bias = result.parts
                terms = f"; log-odds: recurrent {recurrent:+.3f}, n-grams {ngrams:+.3f}, bias {bias:+.3f}"
            click.echo(
                f"{result.label:<8}  {result.probability:.4f}  {result.source} "
                f"({result.tokens} tokens in {result.chunks} chunks{terms})"
            )
        return
    if chunk_tokens is not None:
        raise SentimentError("--chunk-tokens applies to --stream only: add --stream FILE or drop --chunk-tokens.")
    if data_path is not None:
        if texts or file is not None or per_token:
            raise SentimentError("--data scores a table on its own: pass texts or --file, or --data, not both.")
        data_config = load_config(
            overrides=data_overrides(
                (data_path,), data_format, None, None, split, text_column, None, encoding, None, None, None
            )
        ).data
        with progress.bar(length=max(input_size(data_config), 1), label="Predicting", quiet=quiet) as bar:
            summary = score_table(
                model_dir, data_config, output or "-", output_format, threshold, engine, on_progress=bar.update
            )
        if summary.output != "-":
            empty = f" ({summary.empty} with empty text got no prediction)" if summary.empty else ""
            click.echo(f"Scored {summary.rows} rows into {summary.output}{empty}.", err=summary.output == "-")
        elif summary.empty:
            click.echo(f"{summary.empty} of {summary.rows} rows had empty text and got no prediction.", err=True)
        shown_by = f"the {ADDED_COLUMNS[-1]} column gives each row's share"
        _warn(mostly_unknown_warning(summary.mostly_unknown, summary.rows - summary.empty, shown_by))
        return
    if output is not None or output_format is not None:
        raise SentimentError("--output and --output-format apply to --data only: add --data FILE or drop them.")
    no_text = 'No text to predict: pass texts as arguments (predict "great phone"), use --file, or pipe them in.'
    piped = not texts and file is None and not sys.stdin.isatty()
    if piped:
        file = click.open_file("-", encoding="utf-8")  # piped input: as --file -
    if not texts and file is None:
        raise SentimentError(no_text)
    if per_token:
        texts = [text for batch in batches_of_lines(texts, file) for text in batch]
        predictions = predict_per_token(model_dir, texts, threshold=threshold, engine=engine)
        for prediction in predictions:
            if as_json:
                click.echo(json_text(prediction.to_dict()))
                continue
            click.echo(f"{prediction.label:<8}  {prediction.probability:.4f}  {prediction.text}")
            for line in per_token_lines(prediction):
                click.echo(line)
        _warn(mostly_unknown_warning(sum(p.oov_rate > MOSTLY_UNKNOWN for p in predictions), len(predictions)))
        return
    if oov and not as_json:
        raise SentimentError("--oov adds keys to the JSON output: add --json.")
    directory = open_model_dir(model_dir)  # a missing model is refused before the bar is drawn
    with progress.reading(file, label="Predicting", quiet=quiet) as advance:
        summary = score_lines(
            directory, texts, file, sys.stdout, as_json, threshold, engine, lambda _: advance(), with_oov=oov
        )
    if summary.texts == 0:
        raise SentimentError(no_text if piped else f"{file.name} holds no lines: give one text a line.")
    _warn(mostly_unknown_warning(summary.mostly_unknown, summary.texts))


def _warn(warning: str | None) -> None:
    """Write a warning line to stderr (not silenced by --quiet, which silences progress); nothing for None."""
    if warning is not None:
        click.echo(warning, err=True)


@cli.command()
@model_option(multiple=True)
@data_options(data_help="Labelled data to measure on: a file, IMDB directory or .tar.gz (or --pos and --neg).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object, or a list of them for several models.")
@click.option(
    "--errors",
    "errors",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also list the N most confidently wrong examples.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(),
    help="Also write a report into this directory: index.html with the metrics, the worst errors (--errors N, "
    "else 10) and four PNG figures (calibration, ROC, confusion, probabilities by class), for any number of "
    "classes. Needs matplotlib.",
)
@threshold_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or report line on stderr.")
def evaluate(model_dir, as_json, errors, report_dir, threshold, quiet, **data):
    """Measure a model on labelled data: accuracy, precision, recall, F1, ROC AUC.

    Reads --data (any format `train` reads) and prints the example count,
    the metrics (with calibration: ECE and Brier score; and the share of
    unknown tokens) and the confusion matrix [[tn, fp], [fn, tp]] (rows: true
    label negative, positive; columns: predicted). A model of more than two
    classes gets accuracy, average recall, macro F1, each class's precision,
    recall, F1 and ROC AUC (against the rest; roc_auc is their mean), the N x
    N confusion and, for numeric classes such as stars, the mean absolute
    error. Several --model options
    measure each model on the same data, read once, in one table with a
    column per model (the models must have the same classes). The data is
    streamed through the models a batch at a time (memory stays flat), with a
    progress bar on stderr when it is a terminal. Encoding, format, columns
    and --on-empty default to the ones the model was trained with. --report
    DIR also draws the results (for more than two classes: the top class's
    calibration, a ROC curve per class against the rest, the N x N
    confusion): DIR is written whole (an earlier report there is replaced;
    any other existing directory is refused).

    Example usage:

    \b
        sentiment-rnn evaluate --model my-model --data test.csv
        sentiment-rnn evaluate --model my-model --data test.csv --errors 5
        sentiment-rnn evaluate --model my-model --data aclImdb --split test
        sentiment-rnn evaluate --model gru --model lstm --data test.csv
        sentiment-rnn evaluate --model my-model --data test.csv --report report
    """
    from sentiment_rnn.config import load_config
    from sentiment_rnn.data.batches import input_size
    from sentiment_rnn.evaluation import (
        data_options_of_models,
        evaluate_models,
        evaluations_as_json,
        format_evaluations,
    )
    from sentiment_rnn.inference import check_threshold

    check_threshold(threshold)
    model_dirs = list(model_dir)
    given = {key.removeprefix("data_"): value for key, value in data.items()}
    inherited = data_options_of_models(model_dirs, given)
    data_config = load_config(overrides=[*inherited, *data_overrides(**data)]).data
    with progress.bar(length=max(input_size(data_config), 1), label="Evaluating", quiet=quiet) as bar:
        if report_dir is None:
            results = evaluate_models(model_dirs, data_config, errors, threshold, bar.update)
        else:
            from sentiment_rnn.evaluation import REPORT_ERRORS, evaluate_to_report

            kept = errors or REPORT_ERRORS
            results = evaluate_to_report(report_dir, model_dirs, data_config, kept, threshold, bar.update)
    if as_json:
        click.echo(json_text(evaluations_as_json(results, with_errors=errors > 0)))
    else:
        click.echo(format_evaluations(results, errors), nl=False)
    if report_dir is not None and not quiet:
        from sentiment_rnn.evaluation.report import INDEX_FILE

        click.echo(f"Report written to {os.path.join(report_dir, INDEX_FILE)}", err=True)


BAR_WIDTH = 20


def per_token_lines(prediction) -> list[str]:
    """The lines ``predict --per-token`` prints under a text: each token, the probability after it and a bar.

    For a model of more than two classes, the most probable class after each
    token comes before its probability. For a two-class hybrid model two more
    columns give the terms of the logit (log-odds) after each token, the
    recurrent branch's and the n-grams', and a last line their sum with the bias.
    """
    width = max((len(token) for token, _ in prediction.tokens), default=0)
    hybrid = prediction.bias is not None and prediction.tokens
    lines = [f"  {'':<{width}}  {'':6}  {'':<{BAR_WIDTH}}  {'recurrent':>9}  {'n-grams':>9}"] if hybrid else []
    labels = prediction.token_labels or ("",) * len(prediction.tokens)  # N > 2 classes: the top one after each
    label_width = max((len(label) for label in labels), default=0)
    steps = zip(prediction.tokens, prediction.unknown, labels)
    for index, ((token, probability), unknown, label) in enumerate(steps):
        top = f"{label:<{label_width}}  " if label_width else ""
        line = f"{'?' if unknown else ' '} {token:<{width}}  {top}{probability:.4f}  {probability_bar(probability)}"
        if hybrid:
            terms = f"{prediction.recurrent[index]:+9.3f}  {prediction.ngrams[index]:+9.3f}"
            line = f"{line:<{width + 12 + BAR_WIDTH}}  {terms}"
        lines.append(line.rstrip())
    if hybrid:
        bias = f"{prediction.bias:+.3f}"
        lines.append(
            f"  (each branch's log-odds so far; probability = sigmoid(recurrent + n-grams + bias), bias {bias})"
        )
    if any(prediction.unknown):
        lines.append("  (? = not in the vocabulary: read as [UNK])")
    return lines


def probability_bar(probability: float) -> str:
    """A text bar of ``round(probability * 20)`` hashes: 0.31 -> ``######``."""
    return "#" * round(probability * BAR_WIDTH)


@cli.command("forward-demo")
@click.option(
    "--text",
    default="he",
    show_default=True,
    help="Letters from {h, e, l, o} to read one after another.",
)
def forward_demo(text):
    """Show one recurrent step after another on the classic {h, e, l, o} example.

    A SimpleRNN with 3 units reads one-hot letters with fixed weights U, W
    (a scalar 0.427043 times the identity) and b, printing U x(t),
    W s(t-1) + b and the new state s(t) = tanh(U x(t) + W s(t-1) + b) at every
    step, then the output scores V s and their softmax over the next letter.
    The numbers come from the engine's own SimpleRNN cell. The network is
    untrained, so its guess is no good: that is the point of training.

    Example usage:

    \b
        sentiment-rnn forward-demo
        sentiment-rnn forward-demo --text hell
    """
    from sentiment_rnn.demo import DEMO_LETTERS
    from sentiment_rnn.demo import forward_demo as run_demo

    demo = run_demo(text)

    def vector(values) -> str:
        return "[" + ", ".join(f"{v:.6f}" for v in values) + "]"

    click.echo(f"vocabulary {', '.join(DEMO_LETTERS)} (one-hot x); s(t) = tanh(U x(t) + W s(t-1) + b), s(0) = 0")
    for t, step in enumerate(demo.steps, start=1):
        click.echo(f"t={t}  x = {step.letter!r}")
        click.echo(f"  U x(t)         = {vector(step.input_term)}")
        click.echo(f"  W s(t-1) + b   = {vector(step.recurrent_term)}")
        click.echo(f"  s(t)           = {vector(step.state)}")
    click.echo(f"output after {demo.steps[-1].letter!r}:")
    click.echo(f"  V s            = {vector(demo.scores)}")
    click.echo(f"  softmax(V s)   = {vector(demo.probabilities)}  ({', '.join(DEMO_LETTERS)})")
    best = DEMO_LETTERS[int(demo.probabilities.argmax())]
    click.echo(f"  most likely next letter: {best!r} (untrained weights)")


@cli.command()
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@engine_option("numpy: the layers of weights.npz, no TensorFlow (fast); keras: the Keras layers of model.keras.")
def inspect(model_dir, as_json, engine):
    """Show what a model directory holds and how it was made.

    Architecture and layers (type, output shape, parameters), size on disk,
    vocabulary size, sequence length, training data (each source, rows, label
    balance), validation metrics (with ECE and Brier), the config, the format
    and library versions, and the date; with a build.json (as the bundled
    reviews-en has), the command that built the model and its wall time.
    The layers are those of weights.npz, read without TensorFlow;
    --engine keras loads model.keras and lists its Keras layers.

    Example usage:

    \b
        sentiment-rnn inspect --model my-model
        sentiment-rnn inspect --model reviews-en
        sentiment-rnn inspect --model my-model --json > my-model.json
        sentiment-rnn inspect --model my-model --engine keras
    """
    from sentiment_rnn.inspection import describe, format_description

    description = describe(model_dir, engine)
    if as_json:
        click.echo(json_text(description, indent=2))
    else:
        click.echo(format_description(description), nl=False)


@cli.command()
@model_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="PNG file to write (default: training.png in the model directory).",
)
def plot(model_dir, out_path):
    """Draw a model's training curve again from its history.csv.

    Loss and accuracy per epoch, training and validation, with the restored
    best epoch marked: the training.png that train writes when matplotlib is
    installed. For a model trained before matplotlib was there.

    Example usage:

    \b
        sentiment-rnn plot --model my-model
        sentiment-rnn plot --model my-model --out curve.png
    """
    from sentiment_rnn.plots import redraw_training_plot

    written = redraw_training_plot(model_dir, out_path)
    click.echo(f"Wrote {written}.")


@cli.command()
@model_option
@click.option(
    "--bow-model",
    "bow_model_dir",
    type=click.Path(file_okay=True, dir_okay=True),
    help="A bag-of-words model (train --set model.kind=bow) to answer beside the RNN.",
)
@click.option(
    "--lm-model",
    "lm_model_dir",
    type=click.Path(file_okay=True, dir_okay=True),
    help="A language model (pretrain, or reviews-lm) to guess words beside the classifier.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port).")
@click.option("--max-texts", type=click.IntRange(min=1), default=1000, show_default=True, help="Texts per request.")
@click.option(
    "--max-bytes", type=click.IntRange(min=1), default=1_000_000, show_default=True, help="Bytes of request body."
)
@click.option("--max-chars", type=click.IntRange(min=1), default=10_000, show_default=True, help="Characters per text.")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Tokens per request, all texts together (with per_token, each counts 8 times; a guess, each word scored "
    "over the vocabulary 32 times).",
)
def serve(model_dir, bow_model_dir, lm_model_dir, host, port, max_texts, max_bytes, max_chars, max_tokens):
    """Serve a model over HTTP: a JSON API and a page that shows it reading.

    POST /predict takes {"texts": [...]} (and "per_token": true,
    "threshold": 0.7) and answers one object per text with the keys of
    `predict --json`; GET /model gives what `inspect --json` prints, GET
    /healthz says it is up, /openapi.json describes the API. The page at / shows
    which model answers and the probability after each word as you type (for a
    hybrid, with its recurrent and n-gram parts). With a language model
    (--model or --lm-model, e.g. reviews-lm) POST /guess takes {"texts": [...],
    "k": 5} and answers what `guess --json` prints, and the page guesses the
    next word (or the ___) as you type. Runs the NumPy engine (no TensorFlow);
    SIGTERM or Ctrl-C finishes the requests in flight and exits. Needs pip
    install 'sentiment-rnn[serve]'.

    Example usage:

    \b
        sentiment-rnn serve --model my-model
        sentiment-rnn serve --model my-model --bow-model my-bow --port 8080
        sentiment-rnn serve --model reviews-en --lm-model reviews-lm
        curl -d '{"texts": ["No, this phone is good"]}' 127.0.0.1:8000/predict
        curl -d '{"texts": ["the ___ was great"]}' 127.0.0.1:8000/guess
    """
    from sentiment_rnn.serve import serve as run_server
    from sentiment_rnn.serve.api import Limits

    def ready(url: str) -> None:
        click.echo(f"Serving {model_dir} at {url} (Ctrl-C to stop)")
        sys.stdout.flush()

    limits = Limits(max_texts=max_texts, max_bytes=max_bytes, max_chars=max_chars, max_tokens=max_tokens)
    run_server(model_dir, bow_model_dir, host=host, port=port, limits=limits, on_ready=ready, lm_model_dir=lm_model_dir)
    click.echo("Stopped.")


@cli.command("init-config")
@click.option(
    "--preset",
    type=click.Choice(preset_names()),
    default=DEFAULT_PRESET,
    show_default=True,
    help="Which shipped config to start from.",
)
def init_config(preset):
    """Print a complete, commented TOML config to start from.

    Every key is shown with its value and a comment; the presets are the
    configs shipped with sentiment-rnn. Save the output, edit it, and pass it
    to train --config.

    Example usage:

    \b
        sentiment-rnn init-config > my.toml
        sentiment-rnn init-config --preset mr > mr.toml
        sentiment-rnn train --config my.toml
    """
    from sentiment_rnn.presets import render_preset

    click.echo(render_preset(preset), nl=False)


@cli.command()
@model_option
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    default="savedmodel",
    show_default=True,
    help="savedmodel: TensorFlow SavedModel for TF Serving; numpy: weights bundle for use without TensorFlow.",
)
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Export directory to create (must not exist).")
def export(model_dir, export_format, out_dir):
    """Export a model as a TF SavedModel or a NumPy weights bundle.

    savedmodel takes raw strings and returns probabilities (the tokenizer is
    inside), ready for TensorFlow Serving or tf.saved_model.load. numpy writes
    weights.npz, engine.json, vocabulary.json, config.toml, meta.json and
    metrics.json: a model directory without model.keras that predict,
    evaluate, inspect and serve read with the NumPy engine, and that a page
    of NumPy code runs (see docs/model-directory.md).

    Example usage:

    \b
        sentiment-rnn export --model my-model --format savedmodel --out serving/1
        sentiment-rnn export --model my-model --format numpy --out my-model-numpy
        sentiment-rnn predict --model my-model-numpy "No, this phone is good"
    """
    from sentiment_rnn.export import export_model

    written = export_model(model_dir, out_dir, export_format)
    click.echo(f"Exported {model_dir} as {export_format} to {written}.")


@cli.command("compare-bow")
@data_options(
    data_help="Data to train both models on: a file, IMDB directory or .tar.gz (default: the built-in corpus)."
)
@click.option(
    "--eval-data",
    type=click.Path(),
    help="Also measure both models on this labelled file, read like --data (an IMDB layout: its test split; "
    "default with the built-in corpus: data/heldout.csv).",
)
@click.option(
    "--pairs",
    "pairs_path",
    type=click.Path(),
    help="Contrast set: CSV with columns pair_id,text,label, two rows per pair (default: data/contrast_pairs.csv, "
    "product reviews).",
)
@click.option(
    "--ngrams", type=click.IntRange(min=1), help="The baseline's n-grams: 1 = words (default), 2 = also bigrams."
)
@click.option(
    "--rnn-model", "rnn_dir", type=click.Path(), help="Compare this trained RNN model directory (or reviews-en)..."
)
@click.option("--bow-model", "bow_dir", type=click.Path(), help="...with this trained bag-of-words one (no training).")
@click.option("--config", "config_path", type=click.Path(), help="TOML config for the RNN; the baseline shares it.")
@click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one config key; repeatable."
)
@click.option("--epochs", type=click.IntRange(min=1), help="Shortcut for --set train.epochs=N.")
@click.option("--seed", type=click.IntRange(min=0), help="Shortcut for --set train.seed=N.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option(
    "--plot", "plot_path", type=click.Path(), help="Also write a PNG of each contrast pair under both models."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr, even on a terminal.")
def compare_bow(
    eval_data,
    pairs_path,
    ngrams,
    rnn_dir,
    bow_dir,
    config_path,
    overrides,
    epochs,
    seed,
    as_json,
    plot_path,
    quiet,
    **data,
):
    """Show why word order matters: a bag-of-words baseline against the RNN.

    Trains both models on the same split with the same seed (or compares two
    trained model directories), then shows:

    \b
    1. the bag-of-words table of "This phone is no good" and "No this phone
       is good": identical vectors, so identical baseline probabilities,
       while the RNN tells them apart;
    2. both models' accuracy on held-out texts;
    3. sentence and pair accuracy on a contrast set (same words, opposite
       labels);
    4. with --ngrams 2 or more, which pairs the n-grams still cannot
       separate, and why.

    --data and the other data options are those of train; --eval-data is
    read with them too. The built-in contrast pairs are product reviews
    (phones, laptops, cameras): with data of another kind, pass your own
    pairs with --pairs.

    Example usage:

    \b
        sentiment-rnn compare-bow
        sentiment-rnn compare-bow --ngrams 2 --plot compare.png
        sentiment-rnn compare-bow --data reviews.csv --pairs my-pairs.csv
        sentiment-rnn compare-bow --data imdb --split train --eval-data imdb
        sentiment-rnn compare-bow --pos mr.pos --neg mr.neg --encoding cp1252
        sentiment-rnn compare-bow --rnn-model my-model --bow-model my-bow --json
    """
    from sentiment_rnn.compare.experiment import compare_bow as run_comparison
    from sentiment_rnn.compare.plot import write_contrast_plot
    from sentiment_rnn.compare.report import render
    from sentiment_rnn.config import load_config
    from sentiment_rnn.plots import check_plot_path, require_matplotlib

    if plot_path is not None:
        require_matplotlib()
        check_plot_path(plot_path)
    trained_models = rnn_dir is not None or bow_dir is not None
    training_options = {
        "--data": data["data_path"] or None,
        "--pos": data["pos"],
        "--neg": data["neg"],
        "--split": data["split"],
        "--ngrams": ngrams,
        "--epochs": epochs,
        "--seed": seed,
        "--config": config_path,
        "--set": overrides or None,
    }
    if trained_models and any(value is not None for value in training_options.values()):
        given = ", ".join(flag for flag, value in training_options.items() if value is not None)
        raise SentimentError(
            f"{given} set how to train, but --rnn-model/--bow-model compare models already trained: "
            "drop one or the other (use --eval-data to measure the trained models on a file)."
        )
    shortcuts = {"model.ngrams": ngrams, "train.epochs": epochs, "train.seed": seed}
    all_overrides = list(overrides) + data_overrides(**data) + options_as_overrides(shortcuts)
    config = load_config(config_path, all_overrides)
    silent = quiet or as_json
    comparison = run_comparison(
        config,
        pairs_path=pairs_path,
        eval_data=eval_data,
        rnn_dir=rnn_dir,
        bow_dir=bow_dir,
        verbose=progress.keras_verbose(silent),
        progress=lambda message: progress.note(message, quiet=silent),
    )
    if plot_path is not None:
        write_contrast_plot(comparison, plot_path)
    if as_json:
        click.echo(json_text(comparison.to_dict()))
    else:
        click.echo(render(comparison))
        if plot_path is not None:
            click.echo(f"\nWrote {plot_path}.")
