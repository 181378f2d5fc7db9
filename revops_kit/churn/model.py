"""Churn models: scikit-learn Pipelines with the preprocessing inside.

``make_model("logistic")``: numeric columns → median imputation with missing-value indicators →
standardisation; categorical columns → ``"(missing)"`` for blanks → one-hot encoding (categories
seen fewer than ``min_frequency`` times pooled, unseen ones ignored) → L2-regularised
:class:`~sklearn.linear_model.LogisticRegression`.

``make_model("gbm")``: numeric columns as they are (missing values handled natively);
categorical columns → ordinal codes (rare categories pooled, blanks and unseen ones missing) →
:class:`~sklearn.ensemble.HistGradientBoostingClassifier` with native categorical splits on those
codes.

``calibrate=True`` wraps the classifier in :class:`~sklearn.calibration.CalibratedClassifierCV`
(isotonic, 3 stratified folds; the folds are deterministic).

The column lists default to the churn features (:data:`~revops_kit.churn.features.NUMERIC_FEATURES`,
:data:`~revops_kit.churn.features.CATEGORICAL_FEATURES`) present in the frame the pipeline is
fitted on; for any other table pass ``numeric=`` and ``categorical=`` (other columns are dropped).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..errors import RevOpsError
from .features import CATEGORICAL_FEATURES, NUMERIC_FEATURES

__all__ = ["make_model", "MODEL_KINDS", "ModelError", "model_columns", "single_threaded"]

MODEL_KINDS = ("logistic", "gbm")
MISSING = "(missing)"
OTHER = "(other)"


class ModelError(RevOpsError, ValueError):
    """A model cannot be built or fitted as asked."""


class _ColumnPicker(BaseEstimator, TransformerMixin):
    """Select the feature columns present at fit time; text columns become plain ``object``.

    Keeps the pipeline independent of pandas' string dtype (``str`` in pandas 3, ``object`` in
    2.2) and lets the same pipeline accept frames with extra columns.
    """

    def __init__(self, numeric: Sequence[str] | None = None, categorical: Sequence[str] | None = None):
        self.numeric = numeric
        self.categorical = categorical

    def fit(self, X: pd.DataFrame, y=None):
        if not isinstance(X, pd.DataFrame):
            raise ModelError(f"churn model: expected a DataFrame of features, got {type(X).__name__}")
        num = list(self.numeric) if self.numeric is not None else list(NUMERIC_FEATURES)
        cat = list(self.categorical) if self.categorical is not None else list(CATEGORICAL_FEATURES)
        explicit = self.numeric is not None or self.categorical is not None
        missing = [c for c in num + cat if c not in X.columns]
        if explicit and missing:
            raise ModelError(f"churn model: feature column(s) {missing} are not in the frame "
                             f"(columns: {list(X.columns)})")
        self.numeric_ = [c for c in num if c in X.columns]
        self.categorical_ = [c for c in cat if c in X.columns]
        if not self.numeric_ and not self.categorical_:
            raise ModelError("churn model: no feature columns to fit on; pass numeric= / categorical= "
                             f"naming columns of the frame (got columns {list(X.columns)})")
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=X.index)
        for c in self.numeric_:
            out[c] = pd.to_numeric(X[c], errors="coerce").astype("float64") if c in X.columns else np.nan
        for c in self.categorical_:
            col = X[c] if c in X.columns else pd.Series(np.nan, index=X.index)
            text = col.astype(object)
            out[c] = text.where(text.notna(), MISSING).map(str).astype(object)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.numeric_ + self.categorical_, dtype=object)


def _numeric_selector(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if pd.api.types.is_float_dtype(X[c])]


def _categorical_selector(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_float_dtype(X[c])]


def _logistic_prep(min_frequency: int) -> ColumnTransformer:
    numeric = Pipeline([
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        ("scale", StandardScaler()),
    ])
    categorical = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency,
                                sparse_output=False)
    return ColumnTransformer([("num", numeric, _numeric_selector),
                              ("cat", categorical, _categorical_selector)],
                             verbose_feature_names_out=False)


class _CategoryCoder(BaseEstimator, TransformerMixin):
    """Text (non-float) columns → pandas ``category`` dtype with categories fixed at fit time.

    Categories seen fewer than ``min_frequency`` times (and all beyond the ``max_categories``
    most frequent) become ``"(other)"``; ``"(missing)"`` becomes a missing value, as do categories
    not seen in training (gradient boosting sends missing values down its learned default branch).
    """

    def __init__(self, min_frequency: int = 10, max_categories: int = 60):
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y=None):
        self.categories_ = {}
        for c in _categorical_selector(X):
            counts = X[c][X[c] != MISSING].value_counts()
            counts = counts.sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
            keep = counts[counts >= self.min_frequency].index[: self.max_categories - 1].tolist()
            self.categories_[c] = sorted(keep) + [OTHER]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for c, cats in self.categories_.items():
            col = X[c].astype(object)
            known = col.isin(cats)
            mapped = col.where(known | (col == MISSING), OTHER).where(col != MISSING)
            out[c] = pd.Categorical(mapped, categories=cats)
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(list(input_features) if input_features is not None else [], dtype=object)


def single_threaded():
    """Context manager running OpenMP/BLAS code on one thread.

    Gradient boosting and the linear solvers are 10-20× *slower* with one thread per core on a
    busy machine (spin-waiting threads); the models here are small, so one thread is fastest and
    also makes every result independent of the machine's core count. The package's own fitting
    and scoring functions use it; wrap your own ``fit`` calls in it for the same behaviour.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def make_model(kind: str = "logistic", *, calibrate: bool = False, random_state: int = 0,
               numeric: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
               min_frequency: int = 10) -> Pipeline:
    """An unfitted churn classifier: preprocessing and model in one scikit-learn Pipeline.

    Parameters
    ----------
    kind : {"logistic", "gbm"}
        L2 logistic regression (``C=0.5``, Newton-Cholesky solver) or histogram gradient
        boosting (100 trees of depth 2, learning rate 0.1, at least 50 samples per leaf, L2
        regularisation 1.0, no early stopping, native categorical splits). On the sample's four
        quarterly backtests (test cut-offs 2025-01 .. 2025-10) these shallow trees matched
        300 trees of 15 leaves (mean test ROC-AUC 0.871 both) at a fraction of the fitting time.
    calibrate : bool
        Wrap the classifier in ``CalibratedClassifierCV(method="isotonic")`` over 3 stratified,
        seeded folds.
    random_state : int
        Seed of every random part (boosting, calibration folds).
    numeric, categorical : list of str, optional
        Feature columns; default: the churn features present at fit time.
    min_frequency : int
        Categories seen fewer times in training are pooled into one "infrequent" category.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``columns`` (selection, text as object), ``prep`` (ColumnTransformer) and ``model``.

    Examples
    --------
    >>> make_model("gbm").steps[-1][1].__class__.__name__
    'HistGradientBoostingClassifier'
    """
    if kind not in MODEL_KINDS:
        raise ModelError(f"make_model: kind must be one of {MODEL_KINDS}, got {kind!r}")
    if kind == "logistic":
        prep = _logistic_prep(min_frequency)
        clf = LogisticRegression(C=0.5, solver="newton-cholesky", max_iter=200)
    else:
        prep = _CategoryCoder(min_frequency=min_frequency)
        clf = HistGradientBoostingClassifier(
            learning_rate=0.1, max_iter=100, max_depth=2, min_samples_leaf=50,
            l2_regularization=1.0, early_stopping=False, categorical_features="from_dtype",
            random_state=random_state)
    if calibrate:
        clf = CalibratedClassifierCV(
            clf, method="isotonic",
            cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=random_state))
    return Pipeline([("columns", _ColumnPicker(numeric, categorical)), ("prep", prep), ("model", clf)])


def model_columns(pipeline: Pipeline) -> tuple[list[str], list[str]]:
    """(numeric, categorical) input columns of a fitted pipeline."""
    picker = pipeline.named_steps["columns"]
    return list(picker.numeric_), list(picker.categorical_)
