"""Allow ``python -m sentiment_rnn``."""

from sentiment_rnn.cli import cli

if __name__ == "__main__":
    cli(prog_name="sentiment-rnn")
