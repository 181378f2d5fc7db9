"""Schema-shaped output of the generator: row order, dtypes and the CSV text of every table.

The same seed gives byte-identical files: dates ``YYYY-MM-DD``, money with two decimals, other
numbers with a fixed number of decimals per column, missing values as empty fields, rows sorted
by the table's key (or date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import TABLES

__all__ = ["SORT_KEYS", "DECIMALS", "sort_table", "normalise", "to_text"]

#: Row order of each table.
SORT_KEYS = {
    "customers": ["customer_id"],
    "subscriptions": ["subscription_id"],
    "invoices": ["invoice_id"],
    "opportunities": ["opportunity_id"],
    "opportunity_history": ["opportunity_id", "changed_at"],
    "leads": ["lead_id"],
    "costs": ["month", "category", "channel"],
    "support_tickets": ["ticket_id"],
    "nps_responses": ["responded_at", "customer_id", "score"],
    "product_usage": ["customer_id", "month"],
    "quotas": ["period", "owner"],
    "forecast_submissions": ["period", "owner", "submitted_at", "category"],
    "targets": ["kpi", "period", "segment"],
    "fx_rates": ["month", "currency"],
}

#: Decimals written for float columns (money always has two; other floats four).
DECIMALS = {
    ("subscriptions", "quantity"): 0,
    ("opportunities", "probability"): 2,
    ("opportunities", "term_months"): 0,
    ("support_tickets", "csat"): 0,
    ("product_usage", "active_users"): 0,
    ("product_usage", "licensed_seats"): 0,
    ("product_usage", "feature_events"): 0,
    ("targets", "target"): 4,
    ("targets", "baseline"): 4,
    ("fx_rates", "rate"): 4,
}


def sort_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of table ``name`` in :data:`SORT_KEYS` order (stable; missing keys first)."""
    return frame.sort_values(SORT_KEYS[name], kind="mergesort", na_position="first").reset_index(drop=True)


def normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Schema column order and dtypes: ids/strings as str, money rounded, bools as bool."""
    table = TABLES[name]
    out = {}
    for col in table.columns:
        s = frame[col.name] if col.name in frame.columns else pd.Series([None] * len(frame))
        if col.kind in ("id", "str", "currency", "period"):
            s = s.astype(object).where(s.notna(), None)
            s = pd.Series([None if v is None else str(v) for v in s], dtype="str")
        elif col.kind == "money":
            s = pd.Series(np.round(s.astype(float).to_numpy(), 2))
        elif col.kind == "float":
            s = s.astype(float)
        elif col.kind == "int":
            s = s.astype(np.int64)
        elif col.kind == "bool":
            s = s.astype(bool)
        elif col.kind == "date":
            s = pd.to_datetime(s)
        out[col.name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def to_text(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV text of a normalised table (every cell a string; missing values empty)."""
    table = TABLES[name]
    out = {}
    for col in table.columns:
        s = frame[col.name]
        if col.kind == "date":
            txt = s.dt.strftime("%Y-%m-%d")
            out[col.name] = txt.where(s.notna(), "")
        elif col.kind in ("money", "float"):
            k = 2 if col.kind == "money" else DECIMALS.get((name, col.name), 4)
            out[col.name] = ["" if np.isnan(v) else f"{v:.{k}f}" for v in s.to_numpy(dtype=float)]
        elif col.kind == "int":
            out[col.name] = [str(int(v)) for v in s]
        elif col.kind == "bool":
            out[col.name] = ["True" if v else "False" for v in s]
        else:
            out[col.name] = ["" if pd.isna(v) else str(v) for v in s]
    return pd.DataFrame(out, columns=table.column_names)
