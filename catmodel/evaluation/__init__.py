"""Datasets and evaluation: reading an ``export_dataset`` folder and scoring a model package on
it. Pure Python (numpy, ONNX Runtime through catmodel.inference): no Django, no torch."""
from catmodel.taxonomy import species_label_owners

from .answers import OTHER_CAT
from .dataset import NOT_A_CAT, Dataset, DatasetError, Example, read_dataset
from .evaluate import Evaluation, evaluate, evaluate_classifier

__all__ = ["NOT_A_CAT", "OTHER_CAT", "Dataset", "DatasetError", "Evaluation", "Example",
           "evaluate", "evaluate_classifier", "read_dataset", "species_label_owners"]
