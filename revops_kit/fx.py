"""Currency conversion through cross rates: any currency to any reporting currency.

An ``fx_rates`` table (``month, currency, rate``) gives, for each month, the units of one **base
currency** per unit of each currency. The base is the currency the table implies: the one whose
rate is 1 in every month it appears (the sample's table is USD-based: ``USD 1.0000``,
``EUR 1.1034``). :func:`fx_base_currency` finds it and says so when the table is ambiguous.

To report in another currency ``R``, every rate is divided by ``R``'s rate of the same month (the
cross rate ``c → R = rate_c / rate_R``). :func:`rebase_fx_rates` returns the table rebased onto
``R``: ``R`` has rate 1, the old base appears explicitly (``1 / rate_R``), so every KPI that
converts with ``fx_rates`` and ``policy.reporting_currency = R`` computes in ``R``.

Why it matters: the KPI converters (``revenue``'s rate matrix, ``pipeline``'s FX factor,
``finance`` and ``_common.to_reporting_currency``) take a row already in the reporting currency at
face value and multiply every other row by its rate in ``fx_rates`` — they assume the table's base
*is* the reporting currency. Given the USD-based sample table and ``reporting_currency="EUR"``,
USD rows were multiplied by the USD rate 1.0 and so counted as EUR, while the EUR rows were kept:
MRR came out as USD amount + EUR amount (6,737,169 "EUR" for 2025-Q4 where 6,237,378 is right).
Rebase the table first (the report context does).

This module is a leaf: it imports nothing from the package but the errors and policies.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import RevOpsError, RevOpsWarning
from .policies import get_policy

__all__ = ["FxError", "FxWarning", "fx_base_currency", "rebase_fx_rates", "cross_rate",
           "convert", "check_fx_coverage", "fx_currencies", "with_reporting_currency", "convert_targets",
           "convert_period_amounts", "BASE_CURRENCY_TABLES"]

#: Tolerance for "the rate is 1" when finding the base currency.
_ONE = 1e-12


class FxError(RevOpsError, ValueError):
    """An ``fx_rates`` table cannot convert what was asked (ambiguous base, a currency or month
    without a rate, non-positive rates, duplicate rows)."""


class FxWarning(RevOpsWarning):
    """Some months of ``fx_rates`` could not be rebased (the new base has no rate there)."""


def _normalised(fx_rates: pd.DataFrame) -> pd.DataFrame:
    """``month`` (month start), ``currency`` (str), ``rate`` (float); checked: no missing values,
    rates > 0, one row per month × currency."""
    missing = [c for c in ("month", "currency", "rate") if c not in fx_rates.columns]
    if missing:
        raise FxError(f"fx_rates: missing column(s) {missing} (expected month, currency, rate)")
    out = pd.DataFrame({
        "month": pd.to_datetime(fx_rates["month"]).dt.to_period("M").dt.to_timestamp(),
        "currency": fx_rates["currency"].astype(object),
        "rate": pd.to_numeric(fx_rates["rate"], errors="coerce").astype("float64"),
    }, index=fx_rates.index)
    bad = out["month"].isna() | out["currency"].isna() | ~(out["rate"] > 0) | ~np.isfinite(out["rate"])
    if bad.any():
        rows = [int(i) + 1 for i in np.flatnonzero(bad.to_numpy())[:5]]
        raise FxError(f"fx_rates: {int(bad.sum())} row(s) with a missing month or currency or a rate "
                      f"that is not a positive number (check rate > 0; data rows {rows})")
    dup = out.duplicated(["month", "currency"], keep=False)
    if dup.any():
        rows = [int(i) + 1 for i in np.flatnonzero(dup.to_numpy())[:5]]
        pairs = sorted({f"{m:%Y-%m} {c}" for m, c in out.loc[dup, ["month", "currency"]].itertuples(index=False)})
        raise FxError(f"fx_rates: more than one rate for the same month and currency "
                      f"(check unique month × currency; {pairs[:5]}, data rows {rows})")
    out["currency"] = out["currency"].astype(str)
    return out


def fx_currencies(fx_rates: pd.DataFrame | None) -> list[str]:
    """The currencies ``fx_rates`` has rates for, sorted (``[]`` without a table)."""
    if fx_rates is None or not len(fx_rates):
        return []
    return sorted(map(str, fx_rates["currency"].dropna().unique()))


def fx_base_currency(fx_rates: pd.DataFrame | None) -> str | None:
    """The base currency ``fx_rates`` is quoted in: the currency whose rate is 1 in every month.

    ``None`` when no currency has rate 1 throughout (the table does not state its base: the
    converters then take it to be the reporting currency). Raises :class:`FxError` when more than
    one currency has rate 1 throughout (ambiguous).

    >>> fx = pd.DataFrame({"month": ["2025-01-01"] * 2, "currency": ["USD", "EUR"],
    ...                    "rate": [1.0, 1.08]})
    >>> fx_base_currency(fx)
    'USD'
    """
    if fx_rates is None or not len(fx_rates):
        return None
    fx = _normalised(fx_rates)
    ones = (fx["rate"] - 1.0).abs() <= _ONE
    always_one = ones.groupby(fx["currency"]).all()
    cands = sorted(always_one.index[always_one.to_numpy()])
    if len(cands) > 1:
        raise FxError(f"fx_rates: ambiguous base currency — {cands} all have rate 1 in every month; "
                      f"keep only the base currency at rate 1 (or pass base= to rebase_fx_rates)")
    return cands[0] if cands else None


def rebase_fx_rates(fx_rates: pd.DataFrame | None, to: str, *, base: str | None = None) -> pd.DataFrame | None:
    """``fx_rates`` rebased onto ``to``: rate = units of ``to`` per unit of each currency.

    For each month, every currency's rate is divided by ``to``'s rate of that month (cross rate
    ``c → to = rate_c / rate_to``). ``to`` gets rate 1.0 and the table's old base currency appears
    explicitly (``1 / rate_to``), so converters that trust ``policy.reporting_currency = to``
    convert correctly. ``base`` names the table's base currency when it has no rate-1 row (the
    table's rates are then units of ``base``); by default it is :func:`fx_base_currency`.

    Months in which ``to`` has no rate cannot be rebased: they are left out with an
    :class:`FxWarning` naming them (a KPI that needs one of them then raises, naming the month).
    ``to`` absent from the whole table (and not its base) raises :class:`FxError`. ``None`` stays
    ``None``. The input is not modified; ``attrs`` record ``base_currency`` and ``rebased_from``.

    >>> fx = pd.DataFrame({"month": ["2025-01-01"] * 2, "currency": ["USD", "EUR"],
    ...                    "rate": [1.0, 1.25]})
    >>> rebase_fx_rates(fx, "EUR")[["currency", "rate"]].to_dict("list")
    {'currency': ['EUR', 'USD'], 'rate': [1.0, 0.8]}
    """
    if fx_rates is None:
        return None
    to = str(to)
    fx = _normalised(fx_rates)
    found = fx_base_currency(fx)
    if base is None:
        base = found
    elif found is not None and found != base:
        raise FxError(f"fx_rates: base={base!r} was given but the table is quoted in {found!r} "
                      f"({found} has rate 1 in every month)")
    if base is not None and (fx["currency"] == base).any():
        off = fx[(fx["currency"] == base) & ((fx["rate"] - 1.0).abs() > _ONE)]
        if len(off):
            raise FxError(f"fx_rates: base currency {base} must have rate 1, got {off['rate'].iloc[0]} "
                          f"in {off['month'].iloc[0]:%Y-%m}")
    if base is not None:
        # make the base explicit in every month of the table
        months = pd.Index(fx["month"].unique())
        have = set(fx.loc[fx["currency"] == base, "month"])
        add = [m for m in months if m not in have]
        if add:
            fx = pd.concat([fx, pd.DataFrame({"month": add, "currency": base, "rate": 1.0})],
                           ignore_index=True)
    if to == base:
        out = fx
    else:
        if not (fx["currency"] == to).any():
            raise FxError(
                f"fx_rates: cannot report in {to}: the table has no rates for {to} "
                f"(it has {fx_currencies(fx)}, quoted in {base or 'an unstated base currency'})")
        if base is None:
            raise FxError(f"fx_rates: cannot rebase onto {to}: the table does not state its base "
                          f"currency (no currency has rate 1 in every month); pass base=")
        to_rate = fx.loc[fx["currency"] == to].set_index("month")["rate"]
        div = fx["month"].map(to_rate)
        lost = fx.loc[div.isna(), "month"].drop_duplicates().sort_values()
        if len(lost):
            shown = ", ".join(f"{m:%Y-%m}" for m in lost[:6]) + (" …" if len(lost) > 6 else "")
            warnings.warn(f"fx_rates: no {to} rate in {len(lost)} month(s) ({shown}); those months "
                          f"cannot be converted to {to} and were left out", FxWarning, stacklevel=2)
        out = fx[div.notna()].copy()
        out["rate"] = out["rate"] / div[div.notna()]
        out.loc[out["currency"] == to, "rate"] = 1.0
    out = out.sort_values(["month", "currency"], kind="stable").reset_index(drop=True)
    out = out[["month", "currency", "rate"]]
    out.attrs.update(base_currency=to, rebased_from=base)
    return out


def cross_rate(fx_rates: pd.DataFrame, source: str, to: str, month) -> float:
    """Units of ``to`` per unit of ``source`` in ``month`` (``rate_source / rate_to``).

    >>> fx = pd.DataFrame({"month": ["2025-01-01"] * 3, "currency": ["USD", "EUR", "GBP"],
    ...                    "rate": [1.0, 1.1, 1.3]})
    >>> round(cross_rate(fx, "GBP", "EUR", "2025-01-15"), 6)
    1.181818
    """
    if source == to:
        return 1.0
    m = pd.Timestamp(month).to_period("M").to_timestamp()
    fx = rebase_fx_rates(fx_rates, to)
    hit = fx[(fx["month"] == m) & (fx["currency"] == source)]
    if not len(hit):
        raise FxError(f"fx_rates: no rate to convert {source} to {to} in {m:%Y-%m}")
    return float(hit["rate"].iloc[0])


def convert(amount, currency, month, fx_rates: pd.DataFrame | None, to: str) -> pd.Series:
    """Amounts (aligned ``amount``, ``currency``, ``month`` sequences) converted to ``to`` at each
    month's cross rate. Rows already in ``to`` are unchanged; a missing amount stays missing. A
    currency or month without a rate raises :class:`FxError` naming them."""
    amount = pd.Series(amount, dtype="float64").reset_index(drop=True)
    cur = pd.Series(currency, dtype=object).reset_index(drop=True)
    months = pd.to_datetime(pd.Series(month)).dt.to_period("M").dt.to_timestamp().reset_index(drop=True)
    out = amount.copy()
    foreign = cur.notna() & (cur != to)
    if not foreign.any():
        return out
    if fx_rates is None:
        raise FxError(f"{int(foreign.sum())} amount(s) in {sorted(cur[foreign].unique())} but no "
                      f"fx_rates to convert them to {to}")
    fx = rebase_fx_rates(fx_rates, to).set_index(["month", "currency"])["rate"]
    key = pd.MultiIndex.from_arrays([months[foreign], cur[foreign]])
    r = pd.Series(fx.reindex(key).to_numpy(), index=amount.index[foreign])
    if r.isna().any():
        bad = sorted({f"{c} {m:%Y-%m}" for m, c in key[r.isna().to_numpy()]})
        raise FxError(f"fx_rates: no rate to convert to {to} for {bad[:6]}")
    out[foreign] = amount[foreign] * r
    return out


def check_fx_coverage(fx_rates: pd.DataFrame | None, to: str, months: Iterable, currencies: Iterable[str]) -> None:
    """Raise :class:`FxError` naming every (currency, month) of ``currencies`` × ``months`` that
    cannot be converted to ``to`` (e.g. the reporting currency has no rate in a month the report
    needs). Currencies equal to ``to`` need nothing."""
    need = sorted({str(c) for c in currencies if c is not None and not pd.isna(c)} - {str(to)})
    if not need:
        return
    ms = sorted({pd.Timestamp(m).to_period("M").to_timestamp() for m in months})
    if fx_rates is None:
        raise FxError(f"no fx_rates table: amounts in {need} cannot be converted to {to}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FxWarning)
        fx = rebase_fx_rates(fx_rates, to)
    have = set(fx[["month", "currency"]].itertuples(index=False, name=None))
    gaps = [(c, m) for c in need for m in ms if (m, c) not in have]
    if gaps:
        shown = ", ".join(f"{c} {m:%Y-%m}" for c, m in gaps[:8]) + (" …" if len(gaps) > 8 else "")
        raise FxError(f"fx_rates: {len(gaps)} currency-month(s) cannot be converted to {to} "
                      f"(no rate for the currency or for {to} in that month): {shown}")


def _period_factors(periods: pd.Series, sums: pd.Series, rates: pd.Series) -> pd.Series:
    """Per row, the ``source → to`` factor of its period: the mean of the period's monthly rates
    where ``sums`` is true (an amount over the period), else its last month's rate (a level at
    the period end); NaN where a month has no rate."""
    from .periods import as_period

    cache: dict[tuple[str, bool], float] = {}
    out = []
    for period, summed in zip(periods.astype(str), sums.astype(bool)):
        if (period, summed) not in cache:
            p = as_period(period)
            months = pd.date_range(p.start, p.end, freq="MS", inclusive="left")
            have = rates.reindex(months if summed else months[-1:])
            cache[period, summed] = float(have.mean()) if have.notna().all() else np.nan
        out.append(cache[period, summed])
    return pd.Series(out, index=periods.index, dtype="float64")


def convert_period_amounts(frame: pd.DataFrame, fx_rates: pd.DataFrame, source: str, to: str, *,
                           columns: Iterable[str], rows=None, summed=True, table: str) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with ``columns`` of the selected ``rows`` (default all), amounts set in ``source``
    per ``period``, converted to ``to``; and the notes saying so. ``summed`` (bool or a per-row
    Series): the amount is a sum over the period (converted at the mean of its monthly cross
    rates) rather than a level at its end (the rate of its last month). A period without rates
    leaves the amount unknown (NaN), never unconverted, and a note names the periods.

    >>> fx = pd.DataFrame({"month": ["2025-01-01", "2025-02-01", "2025-03-01"] * 2,
    ...                    "currency": ["USD"] * 3 + ["EUR"] * 3, "rate": [1.0] * 3 + [1.0, 1.25, 2.0]})
    >>> q = pd.DataFrame({"period": ["2025-Q1", "2025-Q2"], "amount": [300.0, 10.0]})
    >>> out, notes = convert_period_amounts(q, fx, "USD", "EUR", columns=["amount"], table="quotas")
    >>> out["amount"].round(2).tolist()          # 300 x mean(1, 0.8, 0.5); no rates for Q2
    [230.0, nan]
    >>> notes[1]
    "quotas: no USD→EUR rate for ['2025-Q2']: those amounts are unknown in EUR"
    """
    out = frame.copy()
    rows = pd.Series(True, index=out.index) if rows is None else pd.Series(rows, index=out.index).astype(bool)
    if source == to or not rows.any():
        return out, []
    rates = rebase_fx_rates(fx_rates, to)
    rates = rates[rates["currency"] == source].set_index("month")["rate"]
    summed = pd.Series(summed, index=out.index) if not isinstance(summed, pd.Series) else summed
    factor = _period_factors(out.loc[rows, "period"], summed[rows], rates)
    for col in columns:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
            out.loc[rows, col] = out.loc[rows, col] * factor
    notes = [f"{table}: {int(rows.sum())} amount(s) set in {source} (the fx_rates base) converted to "
             f"{to} at the period's mean monthly rate (sums) or its last month's rate (levels)"]
    missing = sorted(set(out.loc[rows, "period"].astype(str)[factor.isna()]))
    if missing:
        notes.append(f"{table}: no {source}→{to} rate for {missing[:6]}: those amounts are unknown in {to}")
    return out, notes


def convert_targets(targets: pd.DataFrame, fx_rates: pd.DataFrame, source: str, to: str,
                    money_kpis: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """``targets`` with the ``target`` and ``baseline`` of money KPIs converted from ``source`` (the
    currency targets are set in: the ``fx_rates`` base) to ``to``, and the notes saying so.

    ``money_kpis`` maps each money KPI id to its aggregation: a KPI summed over the period
    (``"sum"``: bookings, new MRR ...) converts at the mean of the period's monthly cross rates, a
    level (MRR, ARR, open pipeline at the period end) at the rate of its last month. Other KPIs
    (ratios, counts, days) are unchanged.

    >>> fx = pd.DataFrame({"month": ["2025-01-01", "2025-02-01", "2025-03-01"] * 2,
    ...                    "currency": ["USD"] * 3 + ["EUR"] * 3, "rate": [1.0] * 3 + [1.0, 1.25, 2.0]})
    >>> t = pd.DataFrame({"kpi": ["mrr", "bookings", "nrr"], "period": ["2025-Q1"] * 3,
    ...                   "target": [200.0, 100.0, 1.05]})
    >>> out, notes = convert_targets(t, fx, "USD", "EUR", {"mrr": "level", "bookings": "sum"})
    >>> out["target"].round(4).tolist()    # 200 / 2.0; 100 x mean(1, 0.8, 0.5); unchanged
    [100.0, 76.6667, 1.05]
    """
    kpi = targets["kpi"].astype(str)
    return convert_period_amounts(targets, fx_rates, source, to, columns=["target", "baseline"],
                                  rows=kpi.isin(list(money_kpis)), table="targets",
                                  summed=kpi.map(money_kpis).eq("sum"))


#: Tables whose amounts carry no currency column: they are set in the fx_rates base currency.
#: (quota and forecast-submission amounts are sums over their period).
BASE_CURRENCY_TABLES = {"quotas": ["amount"], "forecast_submissions": ["amount"]}


def with_reporting_currency(data, currency: str | None, policy=None, *, money_kpis: dict[str, str] | None = None):
    """``(data, policy)`` set up to report in ``currency``: the dataset with its ``fx_rates``
    rebased onto ``currency`` (:func:`rebase_fx_rates`; a fresh derived-frame cache) and the
    policy with ``reporting_currency=currency``. Every KPI computed from the pair is in
    ``currency``. ``currency=None`` keeps the policy's. ``data`` is not modified.

    The amounts set in the ``fx_rates`` base currency are converted too (``data.notes`` says so):
    quotas and forecast submissions (:data:`BASE_CURRENCY_TABLES`), and with ``money_kpis`` (KPI
    id → aggregation, see :func:`convert_targets`; the catalogue gives it) the money targets.

    >>> import revops_kit as rk
    >>> d, pol = with_reporting_currency(rk.load_sample(), "EUR")
    >>> pol.reporting_currency, fx_base_currency(d.fx_rates)
    ('EUR', 'EUR')
    """
    import dataclasses

    pol = get_policy(policy)
    currency = str(currency) if currency else pol.reporting_currency
    fx = getattr(data, "fx_rates", None)
    if fx is not None and len(fx) and fx_base_currency(fx) != currency:
        base = fx_base_currency(fx)
        rebased = rebase_fx_rates(fx, currency)
        fields = {f.name for f in dataclasses.fields(data)}
        changes = {"fx_rates": rebased, **({"_derived": {}} if "_derived" in fields else {})}
        notes = list(getattr(data, "notes", []))
        targets = getattr(data, "targets", None)
        if money_kpis and targets is not None and len(targets):
            changes["targets"], more = convert_targets(targets, fx, base, currency, money_kpis)
            notes += more
        for name, columns in BASE_CURRENCY_TABLES.items():
            frame = getattr(data, name, None)
            if frame is not None and len(frame) and "currency" not in frame.columns:
                changes[name], more = convert_period_amounts(frame, fx, base, currency,
                                                             columns=columns, table=name)
                notes += more
        if "notes" in fields:
            changes["notes"] = notes
        data = dataclasses.replace(data, **changes)
    if pol.reporting_currency != currency:
        pol = pol.replace(reporting_currency=currency)
    return data, pol
