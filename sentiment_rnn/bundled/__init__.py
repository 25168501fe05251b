"""The models shipped inside the package, by name, and what a ``--model`` value names.

Each bundled model is an ordinary model directory in this package
(``sentiment_rnn/bundled/reviews-en/``, and the language model ``reviews-lm/``, rebuilt by
``benchmarks/build_reviews_en.py``),
found beside this module (its own directory, a plain directory in every install). A ``--model`` value (or a ``model_dir``
argument of the library) is read by one rule:

1. an existing path always wins (``./reviews-en`` if there is one);
2. otherwise a bundled model's name (``reviews-en``) is that bundled model;
3. otherwise it is a path that does not exist: the usual error.

Without ``--model`` the command line uses ``./sentiment-model`` when it exists,
and otherwise the bundled ``reviews-en``, saying so once on stderr (see
:func:`default_model`). A bundled model is read-only: nothing writes into it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sentiment_rnn.artifact.files import META_FILE
from sentiment_rnn.errors import SentimentError

# Every bundled model's name and what it was trained on, in a few words.
BUNDLED_MODELS = {
    "reviews-en": "general English reviews",
    "reviews-lm": "a language model of English reviews, for guess and train --init-from",
}
DEFAULT_BUNDLED_MODEL = "reviews-en"  # what answers when there is no --model and no ./sentiment-model


def bundled_root() -> Path:
    """The directory holding the bundled model directories (this package's directory)."""
    return Path(__file__).resolve().parent


def bundled_path(name: str) -> Path:
    """The model directory of the bundled model ``name`` (which may be absent from this installation)."""
    return bundled_root() / name


def installed_models() -> list[str]:
    """The names of the bundled models this installation holds (those whose directory has a ``meta.json``)."""
    return [name for name in BUNDLED_MODELS if (bundled_path(name) / META_FILE).is_file()]


def locate(value: str | os.PathLike) -> tuple[Path, str | None]:
    """The model directory a ``--model`` value names, and the bundled model's name if it is one (else None).

    An existing path always wins; otherwise a bundled name is its bundled
    directory; anything else is returned as the path it is (opening it gives
    the usual "does not exist" error).

    Raises:
        SentimentError: ``value`` names a bundled model this installation does not hold.
    """
    path = Path(value)
    if path.exists() or path.is_symlink():
        return path, bundled_name_of(path)
    name = os.fspath(value)
    if name not in BUNDLED_MODELS:
        return path, None
    directory = bundled_path(name)
    if not (directory / META_FILE).is_file():
        raise SentimentError(
            f"The bundled model {name} is not in this installation of sentiment-rnn (no sentiment_rnn/bundled/"
            f"{name}/{META_FILE}): reinstall sentiment-rnn, rebuild it with `python benchmarks/build_reviews_en.py"
            f"{'' if name == DEFAULT_BUNDLED_MODEL else f' --model {name}'}`, or pass --model DIR."
        )
    return directory, name


def bundled_name_of(path: Path) -> str | None:
    """The name of the bundled model whose directory ``path`` is (reached by any path), else None."""
    for name in BUNDLED_MODELS:
        directory = bundled_path(name)
        try:
            if directory.is_dir() and os.path.samefile(path, directory):
                return name
        except OSError:
            continue
    return None


def default_model(default_dir: str) -> tuple[str, str | None]:
    """The ``--model`` value to use when none was given, and the one-line notice to print on stderr (or None).

    ``default_dir`` (``./sentiment-model``) when it exists, or when no bundled
    model is installed (then opening it gives the usual error); otherwise the
    bundled :data:`DEFAULT_BUNDLED_MODEL`, with a notice naming it.
    """
    if Path(default_dir).exists() or DEFAULT_BUNDLED_MODEL not in installed_models():
        return default_dir, None
    notice = (
        f"Using the bundled model {DEFAULT_BUNDLED_MODEL} ({BUNDLED_MODELS[DEFAULT_BUNDLED_MODEL]}); "
        f"run sentiment-rnn train to make ./{default_dir}, which is used from then on, or pass --model DIR."
    )
    return DEFAULT_BUNDLED_MODEL, notice
