"""Map a one-table CRM export onto the canonical ``opportunities`` table.

A CRM export is often a single opportunity table with free-text stage names, an "engage" or
created date, a close date and a "close value" that is 0 for lost deals. :func:`map_crm_opportunities`
renames its columns, turns stage names into ``is_closed`` / ``is_won`` with an explicit mapping,
decides what a 0 on a lost deal means, and parses every column by the canonical schema (see
``README.md``, "Mapping a CRM export"). For Salesforce, HubSpot and Stripe exports with a field
mapping file, see ``revops_kit.adapters``.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import RevOpsError, SchemaError
from .stages import LOST, OPEN, WON, stage_outcome
from .schema import TABLES, format_failures

__all__ = ["map_crm_opportunities", "infer_stage_map"]

_OUTCOME_FLAGS = {OPEN: (False, False), WON: (True, True), LOST: (True, False)}


def infer_stage_map(stages: Iterable) -> dict[str, str]:
    """A first guess of stage name → ``"open"``/``"won"``/``"lost"`` from the names alone.

    "won" in the name → won; "lost" or "closed" → lost; anything else → open. Review it and pass
    the corrected mapping to :func:`map_crm_opportunities`.

    >>> infer_stage_map(["Prospecting", "Engaging", "Won", "Lost"])
    {'Engaging': 'open', 'Lost': 'lost', 'Prospecting': 'open', 'Won': 'won'}
    """
    names = sorted({str(s) for s in stages if pd.notna(s)})
    frame = pd.DataFrame({"stage": names})
    return dict(zip(names, stage_outcome(frame)))


def map_crm_opportunities(frame: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
                          stage_map: Mapping[str, str] | None = None, strict: bool = True,
                          lost_amount: str = "unknown", lost_amount_column: str | None = None,
                          created_default=None, defaults: Mapping[str, object] | None = None,
                          keep_extra: bool = False) -> pd.DataFrame:
    """Map a CRM opportunity export onto canonical ``opportunities``.

    Parameters
    ----------
    frame : DataFrame
        The export, one row per opportunity (never modified).
    columns : mapping
        Export column → canonical column, e.g. ``{"deal_stage": "stage", "engage_date":
        "created_at", "close_value": "amount", "sales_agent": "owner"}``. Columns already named
        canonically need no entry.
    stage_map : mapping
        Stage name → ``"open"``, ``"won"`` or ``"lost"``; sets ``is_closed`` and ``is_won``.
        With ``strict=True`` (default) every stage in the data must be in it (the error lists
        the missing ones); with ``strict=False`` unmapped stages are guessed from their names
        (:func:`infer_stage_map`). Without a ``stage_map``, every stage is guessed.
    lost_amount : {"unknown", "zero"}
        What an amount of 0 on a **lost** deal means. ``"unknown"`` (default): the CRM blanks the
        value of lost deals, so the amount is set missing — it is counted in ``n_missing_amount``
        and left out of amount-based win rates, instead of making losses look free. ``"zero"``:
        the deal really was worth nothing; 0 is kept.
    lost_amount_column : str, optional
        An export column holding the value a lost deal had (e.g. the list price or the last
        pipeline amount); used for lost deals whose amount is 0 or missing, before
        ``lost_amount`` applies.
    created_default : date-like, optional
        ``created_at`` is required. Rows without one raise an error naming them, unless
        ``created_default`` is given: they then get that date and ``created_at_filled=True``.
    defaults : mapping
        Constant columns to add where absent or empty, e.g. ``{"type": "new_business",
        "currency": "USD"}``.
    keep_extra : bool
        Keep export columns that are not canonical (default: drop them).

    Returns
    -------
    DataFrame
        Canonical columns (schema order, as far as present) with ``is_closed`` and ``is_won``,
        typed like :func:`revops_kit.load` types them, plus ``amount_was_zero_lost`` (True where
        a lost deal's 0 was read as unknown).

    Raises
    ------
    SchemaError
        A required column is missing or a value does not parse (table, column and rows named).
    RevOpsError
        Unmapped stages with ``strict=True``, or missing created dates.

    Examples
    --------
    >>> raw = pd.DataFrame({"opportunity_id": ["1", "2", "3"],
    ...     "deal_stage": ["Won", "Lost", "Engaging"],
    ...     "engage_date": ["2017-01-03", "2017-01-05", "2017-02-01"],
    ...     "close_date": ["2017-02-01", "2017-03-01", None], "close_value": [1054, 0, None]})
    >>> opps = map_crm_opportunities(raw, columns={"deal_stage": "stage", "engage_date": "created_at",
    ...     "close_value": "amount"}, stage_map={"Won": "won", "Lost": "lost", "Engaging": "open"})
    >>> opps[["stage", "is_closed", "is_won", "amount"]].values.tolist()
    [['Won', True, True, 1054.0], ['Lost', True, False, nan], ['Engaging', False, False, nan]]
    """
    from .io import parse_table

    if lost_amount not in ("unknown", "zero"):
        raise ValueError(f"map_crm_opportunities: lost_amount must be 'unknown' or 'zero', got {lost_amount!r}")
    columns = dict(columns or {})
    missing_src = [c for c in columns if c not in frame.columns]
    if missing_src:
        raise SchemaError(f"map_crm_opportunities: column(s) {missing_src} named in columns= are not in "
                          f"the export (it has {list(frame.columns)})")
    if lost_amount_column is not None and lost_amount_column not in frame.columns:
        raise SchemaError(f"map_crm_opportunities: lost_amount_column {lost_amount_column!r} is not in the export")
    spec = TABLES["opportunities"]
    out = frame.rename(columns=columns).copy()
    fallback = frame[lost_amount_column].reset_index(drop=True) if lost_amount_column else None
    out = out.reset_index(drop=True)
    if out.columns.duplicated().any():
        dup = sorted(set(out.columns[out.columns.duplicated()]))
        raise SchemaError(f"map_crm_opportunities: more than one column would be named {dup}")
    for col, value in (defaults or {}).items():
        if col not in out.columns:
            out[col] = value
        else:
            out[col] = out[col].where(out[col].notna(), value)
    absent = [c for c in spec.required_columns if c not in out.columns]
    if absent:
        raise SchemaError(f"opportunities: required column(s) {absent} missing after renaming; map them "
                          f"with columns= (the export has {list(frame.columns)})")
    # stage → outcome
    stages = out["stage"].astype("string").str.strip()
    mapping = dict(stage_map or {})
    unmapped = sorted({s for s in stages.dropna().unique() if s not in mapping})
    if stage_map is not None and strict and unmapped:
        raise RevOpsError(f"opportunities.stage: stage(s) {unmapped} are not in stage_map; add them "
                          "(as 'open', 'won' or 'lost') or pass strict=False to guess from the names")
    mapping.update({s: o for s, o in infer_stage_map(unmapped).items() if s not in mapping})
    bad = sorted({v for v in mapping.values()} - set(_OUTCOME_FLAGS))
    if bad:
        raise ValueError(f"map_crm_opportunities: stage_map values must be 'open', 'won' or 'lost', got {bad}")
    outcome = stages.map(mapping)
    if outcome.isna().any():
        rows = (np.flatnonzero(outcome.isna().to_numpy()) + 1).tolist()[:5]
        raise RevOpsError(f"opportunities.stage: {int(outcome.isna().sum())} row(s) have no stage "
                          f"(rows {rows}); give them one before mapping")
    out["stage"] = stages
    out["is_closed"] = outcome.map(lambda o: _OUTCOME_FLAGS[o][0]).astype(bool)
    out["is_won"] = outcome.map(lambda o: _OUTCOME_FLAGS[o][1]).astype(bool)
    # created dates
    if "created_at" in out.columns:
        no_created = out["created_at"].isna() | (out["created_at"].astype("string").str.strip() == "").fillna(False)
        if no_created.any():
            if created_default is None:
                rows = (np.flatnonzero(no_created.to_numpy()) + 1).tolist()[:5]
                raise RevOpsError(
                    f"opportunities.created_at: {int(no_created.sum())} row(s) have no created date "
                    f"(rows {rows}); pass created_default= to give them one (they are flagged in "
                    "created_at_filled)")
            out["created_at"] = out["created_at"].where(~no_created, pd.Timestamp(created_default))
        out["created_at_filled"] = no_created.to_numpy(dtype=bool)
    keep = [c.name for c in spec.columns if c.name in out.columns] + ["created_at_filled"]
    extra = [c for c in out.columns if c not in keep and keep_extra]
    typed, failures, _ = parse_table("opportunities", out[[c for c in keep if c in out.columns] + extra])
    if failures:
        raise SchemaError("map_crm_opportunities: " + format_failures(pd.DataFrame(failures)),
                          failures=pd.DataFrame(failures))
    # a 0 on a lost deal
    is_lost = (outcome == LOST).to_numpy()
    amount = typed["amount"].astype("float64")
    needs = is_lost & ((amount == 0) | amount.isna()).to_numpy()
    if fallback is not None:
        fb, _ = _money(fallback)
        use = needs & fb.notna().to_numpy() & (fb > 0).to_numpy()
        amount = amount.where(~use, fb)
        needs = needs & ~use
    zero_lost = needs & (amount == 0).to_numpy()
    if lost_amount == "unknown":
        amount = amount.where(~zero_lost, np.nan)
    typed["amount"] = amount
    typed["amount_was_zero_lost"] = zero_lost & (lost_amount == "unknown")
    return typed


def _money(values: pd.Series):
    from .io import _parse_money

    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64"), 0
    return _parse_money(values)
