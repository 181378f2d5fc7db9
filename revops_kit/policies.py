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
        Label of the movement rule (see ``revenue.mrr_movements``). Both use the same ordered rule
        (new, churn, reactivation, expansion, contraction, unchanged); the playbook preset also
        sets ``fx_in_movements=True`` because the playbook knows no currencies.
    fx_in_movements : bool
        ``False`` (default): currency movement of continuing customers is its own bridge line
        ``fx_impact`` and categories are decided on the constant-currency change. ``True``: the
        whole change (FX included) is classified, as dbt's mrr-playbook does; ``fx_impact`` = 0.
    reactivation_window_months : int or None
        A customer who returns after at most this many inactive months is a reactivation; after
        more it counts as new again. ``None`` (default) means always a reactivation.
    churn_denominator : {"start", "average"}
        Logo churn rate divides by the customers active at period start (default), or by the
        average of the counts at start and end.
    churn_exclude_new_in_period : bool
        ``False`` (default): logo churn counts every customer with a churn movement in the period.
        ``True`` (ChartMogul's convention): customers who joined inside the period (new, or
        reactivated after being inactive at its start) and churned in it are not counted, so the
        numerator is a subset of the customers active at period start.
    revenue_retention_basis : {"cohort", "movements"}
        ``"cohort"`` (default): GRR/NRR/revenue churn/expansion rate compare, for each customer
        active at period start, its MRR at period end (at constant currency) with its MRR at the
        start; GRR caps each customer at its start MRR. ``"movements"``: sum the period's bridge
        movements of all customers, e.g. net revenue churn = (churn + contraction − expansion −
        reactivation) ÷ MRR_start (ChartMogul's net MRR churn rate).
    arpa_basis : {"end", "average"}
        ARPA = period-end MRR ÷ period-end customers, or Σ monthly MRR ÷ Σ monthly customers.
    renewal_basis : {"contracts", "opportunities"}
        Renewal rate from subscription contract terms (``committed_end_date``, default) or from
        closed renewal opportunities.
    renewal_min_term_months : int
        Contract terms shorter than this (in months) are not renewals (default 12: annual and
        multi-year terms; monthly terms roll over and show up in churn instead).
    contract_value_source : {"opportunities", "subscriptions"}
        TCV/ACV from won opportunities' ``amount`` and ``term_months`` (default) or from
        subscription periods' committed terms.
    opportunity_amount : {"annual", "total"}
        What an opportunity's ``amount`` means: annual contract value (default, as in the
        sample) or total contract value.
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
    fx_in_movements: bool = False
    reactivation_window_months: int | None = None
    churn_denominator: str = "start"
    churn_exclude_new_in_period: bool = False
    revenue_retention_basis: str = "cohort"
    arpa_basis: str = "end"
    renewal_basis: str = "contracts"
    renewal_min_term_months: int = 12
    contract_value_source: str = "opportunities"
    opportunity_amount: str = "annual"
    win_rate_basis: str = "count"
    sales_cycle_basis: str = "won"
    cac_allocation: str = "spend_share"

    _CHOICES = {
        "fx_mode": ("period", "fixed"),
        "mrr_classification": ("default", "dbt_mrr_playbook"),
        "churn_denominator": ("start", "average"),
        "revenue_retention_basis": ("cohort", "movements"),
        "arpa_basis": ("end", "average"),
        "renewal_basis": ("contracts", "opportunities"),
        "contract_value_source": ("opportunities", "subscriptions"),
        "opportunity_amount": ("annual", "total"),
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
        t = self.renewal_min_term_months
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise PolicyError(f"MetricPolicy: renewal_min_term_months must be an int >= 1, got {t!r}")
        w = self.reactivation_window_months
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 0):
            raise PolicyError(
                f"MetricPolicy: reactivation_window_months must be None or an int >= 0, got {w!r}")
        for attr in ("churn_exclude_new_in_period", "fx_in_movements"):
            if not isinstance(getattr(self, attr), bool):
                raise PolicyError(
                    f"MetricPolicy: {attr} must be True or False, got {getattr(self, attr)!r}")

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
    # dbt-labs/mrr-playbook (models/mrr.sql): one ordered CASE over each customer-month vs the
    # previous month: new (first active month), churn (inactive now, active before; one extra row
    # for the month after the last active month), reactivation, upgrade (change > 0), downgrade
    # (change < 0). The playbook has no currencies, so the whole change is classified.
    # Its month spine (date_trunc of the first start .. of the last end, exclusive) also drops
    # the last month of a period ending mid-month; we keep the half-open rule for every policy,
    # and omit the rows where a customer is neither active nor was (the playbook's NULL rows).
    "dbt_mrr_playbook": MetricPolicy(name="dbt_mrr_playbook", mrr_classification="dbt_mrr_playbook",
                                     fx_in_movements=True),
    # ChartMogul: customer churn rate = churned customers ÷ customers at period start, not
    # counting customers who joined and churned inside the period; MRR churn from movements.
    "chartmogul": MetricPolicy(name="chartmogul", churn_exclude_new_in_period=True,
                               revenue_retention_basis="movements"),
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

