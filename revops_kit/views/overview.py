"""The frames behind the overview page (``notebooks/00_overview.ipynb``)."""

from __future__ import annotations

import pandas as pd

from ..io import validation_summary
from ._base import ContextView

__all__ = ["OverviewView", "OVERVIEW_HEADLINE", "VALIDATION"]

OVERVIEW_HEADLINE = ("customers_active", "mrr", "arr")

#: The name of the validation summary among the report's shared frames.
VALIDATION = "validation_summary"


class OverviewView(ContextView):
    """What the report is built on: tables present and their date ranges, validation, MRR trend."""

    @property
    def coverage(self) -> pd.DataFrame:
        cov = self.data.coverage()
        cov["present"] = cov["present"].map({True: "yes", False: "no"})
        return cov

    @property
    def validation(self) -> pd.DataFrame:
        """:func:`~revops_kit.io.validation_summary` of the dataset: computed once per report, by
        the report process that validated it (see :meth:`ReportContext.precompute`)."""
        return self._get("validation", (), lambda: self.ctx.shared(VALIDATION, lambda: validation_summary(self.data)))

    @property
    def trend(self) -> pd.DataFrame:
        return self.ctx.revenue.total_trend

    def headline(self, kpis=OVERVIEW_HEADLINE) -> pd.DataFrame:
        return self.ctx.headline(kpis)
