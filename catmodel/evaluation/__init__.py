"""Datasets and evaluation: reading an ``export_dataset`` folder, scoring a model package on
it and comparing two packages on the same photos. Pure Python (numpy, ONNX Runtime through
catmodel.inference): no Django, no torch."""
from catmodel.taxonomy import species_label_owners

from .answers import OTHER_CAT
from .compare import Comparison, ComparisonError, compare
from .dataset import NOT_A_CAT, Dataset, DatasetError, Example, read_dataset
from .evaluate import Evaluation, Predictions, evaluate, evaluate_classifier, predict, summarise

__all__ = ["NOT_A_CAT", "OTHER_CAT", "Comparison", "ComparisonError", "Dataset", "DatasetError",
           "Evaluation", "Example", "Predictions", "compare", "evaluate", "evaluate_classifier",
           "predict", "read_dataset", "species_label_owners", "summarise"]
