"""Behaviour analytics: baselines per person and peer group, explained anomaly scores."""

from custodes.ueba.cert import DatasetError, LabelledDays, load_cert
from custodes.ueba.evaluate import DATASETS, Evaluation, evaluate
from custodes.ueba.explain import Reason, explain_row, explain_text
from custodes.ueba.features import compute_features
from custodes.ueba.lanl import load_lanl
from custodes.ueba.metrics import Measures, measure
from custodes.ueba.run import ALERT_SCORE, RunSummary, read_scores, run, top
from custodes.ueba.score import METHODS, Scores, score_table
from custodes.ueba.table import FeatureTable

__all__ = [
    "ALERT_SCORE",
    "DATASETS",
    "METHODS",
    "DatasetError",
    "Evaluation",
    "FeatureTable",
    "LabelledDays",
    "Measures",
    "Reason",
    "RunSummary",
    "Scores",
    "compute_features",
    "evaluate",
    "explain_row",
    "explain_text",
    "load_cert",
    "load_lanl",
    "measure",
    "read_scores",
    "run",
    "score_table",
    "top",
]
