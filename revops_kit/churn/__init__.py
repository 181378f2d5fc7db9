"""Churn prediction: point-in-time features, models, evaluation and scoring.

>>> import revops_kit as rk
>>> sorted(rk.churn.MODEL_KINDS)
['gbm', 'logistic']
"""

from __future__ import annotations

from .evaluate import *  # noqa: F401,F403
from .evaluate import __all__ as _evaluate_all
from .features import *  # noqa: F401,F403
from .features import __all__ as _features_all
from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all
from .scoring import *  # noqa: F401,F403
from .scoring import __all__ as _scoring_all
from .table import *  # noqa: F401,F403
from .table import __all__ as _table_all

__all__: list[str] = [*_features_all, *_model_all, *_evaluate_all, *_scoring_all, *_table_all]
