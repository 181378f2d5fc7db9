"""Metric policies: the definitional choices that differ between vendors, made explicit.

A :class:`MetricPolicy` is frozen; derive a variant with :meth:`MetricPolicy.replace`. Every KPI
function takes ``policy=`` and documents which fields it reads. Presets reproduce well-known
definitions; :data:`DEFAULT_POLICY` is documented field by field below.

>>> get_policy("chartmogul").churn_exclude_new_in_period
True
>>> DEFAULT_POLICY.replace(win_rate_basis="amount").win_rate_basis
'amount'
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .errors import RevOpsError

__all__ = ["MetricPolicy", "PolicyError", "DEFAULT_POLICY", "PRESETS", "get_policy", "register_policy"]


@dataclass(frozen=True)
class MetricPolicy:
    """Definitional choices for KPIs.

    Attributes
    ----------
    name : str
        Preset name (for manifests and report footers).
    reporting_currency : str
        Currency every money KPI is reported in (default ``"USD"``).
    fx_mode : {"period", "fixed"}
        ``"period"`` converts each month at that month's rate; ``"fixed"`` converts every month at
        the rate of ``fx_fixed_month`` (or the first month of the data when ``None``), which removes
        currency movement from the numbers.
    fx_fixed_month : str or None
        Month (``"YYYY-MM"``) of the fixed rate.
    mrr_classification : {"default", "dbt_mrr_playbook"}
        How a customer-month's movement is classified (see ``revenue.mrr_movements``).
    reactivation_window_months : int or None
        A customer who returns within this many months of churning is a reactivation; ``None``
        means always (never counted as new again).
    churn_denominator : {"start", "average"}
        Logo/revenue churn rates divide by the period-start count/MRR, or by the average of start
        and end.
    churn_exclude_new_in_period : bool
        Exclude customers who were both new and churned inside the period from churn counts
        (ChartMogul's convention).
    win_rate_basis : {"count", "amount"}
        Win rate as won ÷ (won + lost) by number of deals or by amount.
    sales_cycle_basis : {"won", "closed"}
        Sales cycle measured on won deals only, or on all closed deals.
    cac_allocation : {"spend_share", "new_customers"}
        How shared acquisition costs (payroll, tools, external services) are split over channels:
        in proportion to each channel's program spend or to its new customers.
    """

    name: str = "default"
    reporting_currency: str = "USD"
    fx_mode: str = "period"
    fx_fixed_month: str | None = None
    mrr_classification: str = "default"
    reactivation_window_months: int | None = None
    churn_denominator: str = "start"
    churn_exclude_new_in_period: bool = False
    win_rate_basis: str = "count"
    sales_cycle_basis: str = "won"
    cac_allocation: str = "spend_share"

    _CHOICES = {
        "fx_mode": ("period", "fixed"),
        "mrr_classification": ("default", "dbt_mrr_playbook"),
        "churn_denominator": ("start", "average"),
        "win_rate_basis": ("count", "amount"),
        "sales_cycle_basis": ("won", "closed"),
        "cac_allocation": ("spend_share", "new_customers"),
    }

    def __post_init__(self) -> None:
        for attr, allowed in self._CHOICES.items():
            value = getattr(self, attr)
            if value not in allowed:
                raise PolicyError(
                    f"MetricPolicy: {attr} must be one of {allowed}, got {value!r}"
                )

    def replace(self, **changes) -> "MetricPolicy":
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class PolicyError(RevOpsError, ValueError):
    """An unknown policy name or an invalid policy field."""


DEFAULT_POLICY = MetricPolicy()

PRESETS: dict[str, MetricPolicy] = {
    "default": DEFAULT_POLICY,
    "dbt_mrr_playbook": MetricPolicy(name="dbt_mrr_playbook", mrr_classification="dbt_mrr_playbook"),
    "chartmogul": MetricPolicy(name="chartmogul", churn_exclude_new_in_period=True),
}


def register_policy(policy: MetricPolicy) -> MetricPolicy:
    """Add a preset under ``policy.name`` (so ``--policy NAME`` finds it)."""
    PRESETS[policy.name] = policy
    return policy


def get_policy(policy: "str | MetricPolicy | None") -> MetricPolicy:
    """Return a preset by name (or the policy itself)."""
    if policy is None:
        return DEFAULT_POLICY
    if isinstance(policy, MetricPolicy):
        return policy
    try:
        return PRESETS[policy]
    except KeyError:
        raise PolicyError(
            f"unknown policy {policy!r}; presets are {sorted(PRESETS)}"
        ) from None

