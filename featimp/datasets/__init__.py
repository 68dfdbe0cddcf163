"""Bundled datasets and synthetic generators with known ground truth."""

from featimp.datasets._loaders import (
    dataset_names,
    describe_datasets,
    load_dataset,
    load_german_credit,
    load_german_credit_missing,
    load_taiwan_credit,
    load_taiwan_credit_missing,
)
from featimp.datasets._missing import MissingColumn, add_missing
from featimp.datasets._recourse import load_german_recourse, load_taiwan_recourse
from featimp.datasets._synthetic import GroundTruth, make_ground_truth

__all__ = [
    "GroundTruth",
    "MissingColumn",
    "add_missing",
    "dataset_names",
    "describe_datasets",
    "load_dataset",
    "load_german_credit",
    "load_german_credit_missing",
    "load_german_recourse",
    "load_taiwan_credit",
    "load_taiwan_credit_missing",
    "load_taiwan_recourse",
    "make_ground_truth",
]
