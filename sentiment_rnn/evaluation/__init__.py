"""Measure saved models on labelled data, lay the results out, and draw them.

- ``metrics``: the metrics of probabilities against labels, counted batch by batch.
- ``class_metrics``: the same for models of more than two classes (per-class and macro figures, N x N confusion).
- ``run``: models run over data (in memory or streamed, several at once).
- ``table``: the table ``evaluate`` prints, and its JSON.
- ``report``, ``figures``, ``page``: ``evaluate --report DIR``, figures and a page people can look at
  (the figures need matplotlib).
"""

from sentiment_rnn.evaluation.class_metrics import ClassEvaluation, ClassMetricsAccumulator, class_metrics
from sentiment_rnn.evaluation.metrics import (
    HISTOGRAM_BINS,
    Curves,
    Evaluation,
    MetricsAccumulator,
    Mistake,
    ScoreCounts,
    binary_metrics,
    most_confident_mistakes,
    roc_auc,
)
from sentiment_rnn.evaluation.report import REPORT_ERRORS, evaluate_to_report, write_report
from sentiment_rnn.evaluation.run import (
    data_name,
    data_options_of_model,
    data_options_of_models,
    evaluate,
    evaluate_data,
    evaluate_models,
)
from sentiment_rnn.evaluation.table import evaluations_as_json, format_evaluations, metric_rows

__all__ = [
    "HISTOGRAM_BINS",
    "REPORT_ERRORS",
    "ClassEvaluation",
    "ClassMetricsAccumulator",
    "Curves",
    "Evaluation",
    "MetricsAccumulator",
    "Mistake",
    "ScoreCounts",
    "binary_metrics",
    "class_metrics",
    "data_name",
    "data_options_of_model",
    "data_options_of_models",
    "evaluate",
    "evaluate_data",
    "evaluate_models",
    "evaluate_to_report",
    "evaluations_as_json",
    "format_evaluations",
    "metric_rows",
    "most_confident_mistakes",
    "roc_auc",
    "write_report",
]
