"""Finance side of the synthetic company: the EUR/USD rate walk and the monthly cost lines.

Costs are driven by new MRR (sales and marketing) and by MRR (cost of revenue, success, R&D,
G&A) so that CAC payback is ~12-24 months and gross margin ~75%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import COST_CATEGORIES
from .calendar import to_dates
from .constants import CHANNELS, OFF
from .state import SampleState

__all__ = ["FxRates", "Costs", "simulate_fx", "simulate_costs", "cost_frame", "fx_frame"]


@dataclass(frozen=True)
class FxRates:
    """Monthly EUR rate in USD; ``eur[m + 12]`` is window month ``m`` (12 months of history)."""

    eur: np.ndarray

    def rate(self, currency: str, m: int) -> float:
        """USD per unit of ``currency`` in window month ``m`` (clamped to the known months)."""
        if currency == "USD":
            return 1.0
        return float(self.eur[min(max(m + 12, 0), len(self.eur) - 1)])


@dataclass(frozen=True)
class Costs:
    """Cost rows ``(month_day, category, amount, channel)`` and the USD MRR facts behind them."""

    rows: list
    mrr_usd: np.ndarray  # MRR in USD per window month
    new_usd: np.ndarray  # new-customer MRR in USD per window month


def simulate_fx(state: SampleState) -> FxRates:
    """A mean-reverting EUR/USD walk in 1.051-1.149 for 12 months of history plus the window."""
    rng = state.rng
    r, rates = 1.10, []
    for _ in range(12 + state.cal.T):
        r = 1.10 + 0.88 * (r - 1.10) + rng.normal(0.0, 0.011)
        r = min(1.149, max(1.051, r))
        rates.append(round(r, 4))
    return FxRates(np.array(rates))


def simulate_costs(state: SampleState) -> Costs:
    """Monthly costs per category (marketing programs per channel), in USD."""
    rng, cal, T = state.rng, state.cal, state.cal.T
    fx, cust = state.fx, state.customers
    eur = np.array([fx.rate("EUR", m) for m in range(T)])
    a = state.success.cm_arr
    fxm = np.where(np.array([cust.cur[i] == "EUR" for i in a["c"]]), eur[a["m"]], 1.0)
    mrr_usd = np.bincount(a["m"], weights=a["total"] * fxm, minlength=T)
    new_usd = np.zeros(T)
    for c, day, m, react, total in state.billing.starts:
        if not react:
            new_usd[m] += total * fx.rate(cust.cur[c], m)
    smooth = np.array([new_usd[max(0, m - 2):m + 1].mean() for m in range(T)])
    rows = []
    split = np.array([0.15, 0.42, 0.20, 0.23])  # marketing programs by channel
    for m in range(T):
        month = cal.cal_ms[m + OFF]
        snm = 13.0 * smooth[m] * rng.uniform(0.93, 1.07) + 30000.0
        noise = rng.uniform(0.95, 1.05, size=16)
        programs = 0.30 * snm * split * noise[:4]
        for ch, amt in zip(CHANNELS, programs):
            rows.append((month, "marketing_programs", round(float(amt), 2), ch))
        rows += [
            (month, "marketing_payroll", round(0.17 * snm * noise[4], 2), None),
            (month, "sales_payroll", round(0.40 * snm * noise[5], 2), None),
            (month, "tools_infrastructure", round(0.06 * snm * noise[6], 2), None),
            (month, "external_services", round(0.07 * snm * noise[7], 2), None),
            (month, "customer_success", round((0.07 * mrr_usd[m] + 12000) * noise[8], 2), None),
            (month, "cost_of_revenue", round((0.21 * mrr_usd[m] + 15000) * noise[9], 2), None),
            (month, "research_development", round((0.25 * mrr_usd[m] + 120000) * noise[10], 2), None),
            (month, "general_administrative", round((0.12 * mrr_usd[m] + 60000) * noise[11], 2), None),
        ]
    if {r[1] for r in rows} != set(COST_CATEGORIES):
        raise AssertionError("sample costs must cover every schema.COST_CATEGORIES entry")
    return Costs(rows=rows, mrr_usd=mrr_usd, new_usd=new_usd)


def cost_frame(state: SampleState) -> pd.DataFrame:
    """The ``costs`` table (USD)."""
    costs = pd.DataFrame(state.costs.rows, columns=["month", "category", "amount", "channel"])
    costs["month"] = to_dates(costs["month"])
    costs["currency"] = "USD"
    return costs[["month", "category", "amount", "channel", "currency"]]


def fx_frame(state: SampleState) -> pd.DataFrame:
    """The ``fx_rates`` table: USD = 1.0 and the EUR walk, 12 months before the window to its end."""
    cal = state.cal
    fx_months = [cal.cal_ms[OFF + m] for m in range(-12, cal.T)]
    return pd.DataFrame({
        "month": to_dates(fx_months * 2),
        "currency": ["USD"] * len(fx_months) + ["EUR"] * len(fx_months),
        "rate": [1.0] * len(fx_months) + [float(v) for v in state.fx.eur],
    })
