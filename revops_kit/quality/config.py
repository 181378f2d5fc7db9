"""Dimensions, weights and thresholds of the data-quality checks."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ..errors import RevOpsError

__all__ = [
    "DIMENSIONS", "DQ_WEIGHTS", "CRM_TABLES", "CHECK_COLUMNS", "QualityConfig", "DEFAULT_QUALITY",
    "UnknownCheckError", "EXPECTED_COLUMNS", "FRESHNESS_TABLES",
]


DIMENSIONS = ("completeness", "validity", "consistency", "uniqueness", "integrity", "timeliness")


#: Weights of the dimensions in :func:`crm_quality_score` (they sum to 1).
DQ_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "completeness": 0.25,
    "validity": 0.15,
    "consistency": 0.25,
    "uniqueness": 0.15,
    "integrity": 0.10,
    "timeliness": 0.10,
})


#: Tables that make up "the CRM" for the CRM quality score.
CRM_TABLES = ("customers", "opportunities", "opportunity_history", "leads")


CHECK_COLUMNS = ["check", "dimension", "table", "column", "description", "crm", "checked",
                 "failed", "passed", "value"]


class UnknownCheckError(RevOpsError, KeyError):
    """A data-quality check id that does not exist for this dataset."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the data-quality checks.

    Attributes
    ----------
    window_days : int
        A won new-business deal needs a subscription starting within this many days of its close
        date (before or after). Default 30.
    tolerance : float
        Relative tolerance between the opportunity amount (annual) and 12 × first MRR. Default 0.10.
    inactivity_days : int
        An open opportunity without a stage-history change for longer than this at the period
        end is inactive. Default 90.
    freshness_days : int
        A table is stale when its newest row before the period end is older than this many days
        at the period end. Default 45 (monthly tables are 31 days old at best).
    free_mail_domains : tuple of str
        Domains never used to match duplicate accounts.
    """

    window_days: int = 30
    tolerance: float = 0.10
    inactivity_days: int = 90
    freshness_days: int = 45
    free_mail_domains: tuple[str, ...] = (
        "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net",
        "web.de", "mail.ru", "yandex.ru", "qq.com", "163.com",
    )

    def __post_init__(self) -> None:
        for name in ("window_days", "inactivity_days", "freshness_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"QualityConfig: {name} must be >= 0, got {getattr(self, name)!r}")
        if not 0 <= self.tolerance:
            raise ValueError(f"QualityConfig: tolerance must be >= 0, got {self.tolerance!r}")


DEFAULT_QUALITY = QualityConfig()


# Columns that should be filled, by table (only those present in a table are checked).
EXPECTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("name", "domain", "segment", "region", "country", "industry",
                  "acquisition_channel", "owner", "created_at"),
    "subscriptions": ("currency", "product", "plan"),
    "invoices": ("currency", "due_at", "kind"),
    # customer_id is blank on prospects' opportunities; won ones are checked under integrity
    "opportunities": ("amount", "close_date", "owner", "type", "source", "probability",
                      "forecast_category"),
    "opportunity_history": ("amount", "close_date"),
    "leads": ("channel",),
    "support_tickets": ("priority",),
    "product_usage": ("active_users", "licensed_seats"),
    "forecast_submissions": ("owner", "category"),
    "costs": ("currency",),
}


# Tables whose freshness is checked. Planning tables (quotas, targets, forecast submissions) and
# surveys (nps_responses) run on their own cadence and are excluded.
FRESHNESS_TABLES = ("customers", "subscriptions", "invoices", "opportunities",
                     "opportunity_history", "leads", "support_tickets", "product_usage", "costs",
                     "fx_rates")
