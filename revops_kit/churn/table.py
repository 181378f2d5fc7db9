"""Churn models on any customer table: one row per customer, a label column, messy values.

:func:`prepare_table` turns an export as it comes (every cell text) into model inputs and says
what it did with every column; :func:`evaluate_table` cross-validates both models on it. Rules,
in order, per column:

1. cells are stripped; blanks and ``N/A, NaN, null, None, -, ?, #N/A`` are missing (not ``NA``,
   which is North America in a region column);
2. the ``target`` column becomes 0/1: ``positive`` (case-insensitive) is 1; without it, a yes/no
   style column (``yes/no, true/false, y/n, t/f, 1/0``) maps its "yes" side to 1; rows without a
   target are dropped;
3. the ``id_column`` and **id-like** columns are removed: text whose every value is distinct,
   a column named like an id (``id``, ``customer_id``, ``customerID``) with ≥ 95% distinct values,
   or whole numbers that are exactly the row number;
4. **Yes/No flags** (every value in the yes/no vocabulary) become 1/0;
5. **numbers stored as text** (``"1,234"``, ``" 12 "``, ``"$1,200.50"``, ``"12%"``, ``"(5)"``)
   become numbers when at least 95% of the present values parse; the rest become missing;
6. **date-like** text is dropped (derive tenure or recency yourself);
7. **constant** columns (one value in every row) and empty ones are dropped; a column holding
   one value or a blank becomes a 1/0 "filled" flag;
8. columns that **separate the target perfectly** (single-column ROC-AUC of 0 or 1, or every
   category pure) are dropped as probable leakage (e.g. a "churn reason" only churners have);
9. what remains is numeric or categorical (text with more than 50 distinct values that are over
   half of the rows is dropped as free text).

Every action is a row of ``PreparedTable.report`` (``column, action, detail``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ..errors import DataNotFoundError, RevOpsError
from .evaluate import CVResult, cross_validate
from .model import MODEL_KINDS

__all__ = ["TableError", "PreparedTable", "prepare_table", "evaluate_table", "read_table",
           "TableEvaluation"]

_NA_TOKENS = {"", "n/a", "nan", "null", "none", "-", "?", "#n/a"}  # not "NA": North America
_YES = {"yes", "y", "true", "t", "1", "1.0"}
_NO = {"no", "n", "false", "f", "0", "0.0"}
_NUMBER = re.compile(r"^\(?[-+]?[$€£]?\s*[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\s*%?\)?$")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$|^\d{1,2}/\d{1,2}/\d{2,4}$")
_ID_NAME = re.compile(r"(^|[_\s\-.])id$|^id([_\s\-.]|$)|[a-z]ID$|^uuid$|^guid$|(_|\s)key$", re.I)


class TableError(RevOpsError, ValueError):
    """A customer table cannot be used as asked (missing target, unknown positive value ...)."""


@dataclass
class PreparedTable:
    """Model inputs made from a messy table, and what was done to get them.

    Attributes
    ----------
    X : DataFrame
        The feature columns kept: numeric ones as float, categorical ones as text.
    y : numpy array of 0/1
    ids : Series or None
        The ``id_column`` of the kept rows.
    numeric, categorical : list of str
    report : DataFrame
        ``column, action, detail`` — one row per column of the input (and one for dropped rows).
    target, positive : str
    rows_in, columns_in : int
        Shape of the input (``len(X)`` rows were kept).
    """

    X: pd.DataFrame
    y: np.ndarray
    ids: pd.Series | None
    numeric: list[str]
    categorical: list[str]
    report: pd.DataFrame
    target: str
    positive: str
    rows_in: int
    columns_in: int = 0

    @property
    def positives(self) -> int:
        return int(self.y.sum())

    @property
    def prevalence(self) -> float:
        return float(self.y.mean()) if len(self.y) else float("nan")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV export with every cell as text (nothing converted yet; :func:`prepare_table` does it)."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"customer table {str(path)!r} does not exist")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise TableError(f"customer table {path.name}: the file is empty (no header row)") from None
    except pd.errors.ParserError as exc:
        raise TableError(f"customer table {path.name}: not a readable CSV ({exc})") from None


def _clean_cell(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return None if text.lower() in _NA_TOKENS else text


def _clean_text(col: pd.Series) -> pd.Series:
    """Stripped text, ``None`` for blanks and NA tokens (object dtype)."""
    return pd.Series([_clean_cell(v) for v in col.tolist()], index=col.index, dtype=object)


def _parse_number(value: str) -> float | None:
    if not _NUMBER.match(value) or not re.search(r"\d", value):
        return None
    negative = value.startswith("(") and value.endswith(")")
    cleaned = re.sub(r"[()\s$€£%,+]", "", value)
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return -number if negative else number


def _examples(values: Sequence, k: int = 3) -> str:
    shown = [repr(v) for v in list(dict.fromkeys(values))[:k]]
    return ", ".join(shown)


def _target(col: pd.Series, name: str, positive: str | None) -> tuple[pd.Series, str]:
    present = col.dropna()
    values = sorted(set(present))
    if positive is not None:
        want = str(positive).strip().lower()
        lowered = col.map(lambda v: v if v is None else v.lower())
        if want not in set(lowered.dropna()):
            raise TableError(f"target column {name!r}: positive value {positive!r} does not occur; "
                             f"values are {values[:10]}")
        match = next(v for v in values if v.lower() == want)
        return lowered.map(lambda v: np.nan if v is None else float(v == want)), match
    lowered = {v.lower() for v in values}
    if lowered and lowered <= (_YES | _NO) and lowered & _YES and lowered & _NO:
        match = next(v for v in values if v.lower() in _YES)
        return col.map(lambda v: np.nan if v is None else float(v.lower() in _YES)), match
    raise TableError(f"target column {name!r}: cannot tell which value means churned; values are "
                     f"{values[:10]} — name it with --positive / positive=")


def _perfect(x: pd.Series, y: np.ndarray, numeric: bool) -> bool:
    if numeric:
        v = x.to_numpy(dtype="float64")
        if np.isnan(v).all():
            return False
        lo, hi = np.nanmin(v) - 1, np.nanmax(v) + 1
        for fill in (lo, hi):
            auc = roc_auc_score(y, np.where(np.isnan(v), fill, v))
            if auc in (0.0, 1.0):
                return True
        return False
    groups = x.fillna("(missing)").astype(str)
    if groups.nunique() < 2 or groups.nunique() > len(x) / 2:
        return False
    purity = pd.Series(y).groupby(groups.to_numpy()).agg(lambda s: s.nunique())
    return bool((purity == 1).all())


def prepare_table(frame: pd.DataFrame, target: str, *, positive: str | None = None,
                  id_column: str | None = None) -> PreparedTable:
    """Clean a one-row-per-customer table for the churn models (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        Raw table; text cells are expected (as :func:`read_table` gives), typed ones work too.
    target : str
        Label column.
    positive : str, optional
        The target value meaning "churned" (case-insensitive); needed unless the target is a
        yes/no, true/false or 1/0 column.
    id_column : str, optional
        Customer id column (kept as ``ids``, never a feature).

    Raises
    ------
    TableError
        If the target or id column is missing, the positive value does not occur, the target has
        one class only, or no usable feature is left.
    """
    raw = frame.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    dupes = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if dupes:
        raise TableError(f"customer table: duplicate column name(s) {dupes}")
    for what, col in (("target", target), ("id", id_column)):
        if col is not None and col not in raw.columns:
            raise TableError(f"customer table: {what} column {col!r} not found; columns are "
                             f"{list(raw.columns)}")
    rows_in = len(raw)
    cleaned = {c: _clean_text(raw[c]) for c in raw.columns}
    y_raw, pos = _target(cleaned[target], target, positive)
    keep = y_raw.notna().to_numpy()
    report: list[dict] = []
    n_pos = int(np.nansum(y_raw.to_numpy()))
    report.append({"column": target, "action": "target",
                   "detail": f"positive = {pos!r}: {n_pos} of {int(keep.sum())} rows "
                             f"({n_pos / max(int(keep.sum()), 1):.1%})"})
    if (~keep).any():
        report.append({"column": "(rows)", "action": "dropped",
                       "detail": f"{int((~keep).sum())} row(s) without a target value"})
    y = y_raw.to_numpy()[keep].astype("int64")
    if len(set(y.tolist())) < 2:
        raise TableError(f"target column {target!r}: every kept row has the same value; nothing to learn")
    n = int(keep.sum())
    ids = cleaned[id_column][keep].reset_index(drop=True) if id_column else None
    if id_column:
        report.append({"column": id_column, "action": "id", "detail": "customer id, not a feature"})

    features: dict[str, pd.Series] = {}
    numeric: list[str] = []
    categorical: list[str] = []
    for name in raw.columns:
        if name in (target, id_column):
            continue
        col = cleaned[name][keep].reset_index(drop=True)
        present = col.dropna()
        n_missing = int(col.isna().sum())
        blank_note = f"; {n_missing} blank/NA → missing" if n_missing else ""
        distinct = present.unique()
        if len(present) == 0:
            report.append({"column": name, "action": "dropped", "detail": "empty (every value blank)"})
            continue
        lowered = {str(v).lower() for v in distinct}
        if len(distinct) == 1 and n_missing == 0:
            report.append({"column": name, "action": "dropped",
                           "detail": f"constant ({_examples(distinct)})"})
            continue
        if len(distinct) == 1:  # one value or blank: the blank carries the information
            values = col.notna().astype("float64")
            kind, action = "numeric", "filled → 1/0"
            detail = f"one value ({_examples(distinct)}) or blank: 1 when filled ({n_missing} blank)"
        # yes/no flags
        elif lowered <= (_YES | _NO) and lowered & _YES and lowered & _NO and \
                not lowered <= {"1", "0", "1.0", "0.0"}:
            values = col.map(lambda v: np.nan if v is None else float(v.lower() in _YES))
            kind, detail = "numeric", f"yes/no flag → 1/0 ({_examples(distinct)}){blank_note}"
            action = "yes/no → 1/0"
        else:
            parsed = present.map(_parse_number)
            ok = parsed.notna()
            if ok.mean() >= 0.95:
                values = col.map(lambda v: np.nan if v is None else _parse_number(v)).astype("float64")
                bad = present[~ok]
                changed = present[ok & (present.map(lambda v: bool(re.search(r"[,$€£%()\s+]", v))))]
                notes = []
                if len(changed):
                    notes.append(f"{len(changed)} value(s) with separators/symbols read as numbers "
                                 f"(e.g. {_examples(changed.tolist(), 2)})")
                if len(bad):
                    notes.append(f"{len(bad)} unparseable → missing (e.g. {_examples(bad.tolist(), 2)})")
                detail = "; ".join(notes) + blank_note if notes else ("numbers" + blank_note)
                detail = detail.lstrip("; ")
                is_whole = values.dropna().eq(values.dropna().round()).all()
                as_row = values.dropna().astype("int64").tolist() if is_whole else []
                if is_whole and n_missing == 0 and (as_row == list(range(1, n + 1)) or
                                                    as_row == list(range(n))):
                    report.append({"column": name, "action": "dropped",
                                   "detail": "id-like: the row number"})
                    continue
                if _ID_NAME.search(name) and values.nunique() >= 0.95 * len(present):
                    report.append({"column": name, "action": "dropped",
                                   "detail": f"id-like: named like an id, {values.nunique()} distinct "
                                             f"values in {len(present)} rows"})
                    continue
                kind = "numeric"
                action = "number from text" if (raw[name].map(lambda v: isinstance(v, str)).any()) \
                    else "numeric"
            else:
                if present.map(lambda v: bool(_DATE.match(v))).mean() >= 0.95:
                    report.append({"column": name, "action": "dropped",
                                   "detail": f"date-like text ({_examples(distinct, 2)}); derive "
                                             "tenure or recency yourself"})
                    continue
                if len(distinct) == len(present) or (_ID_NAME.search(name) and
                                                     len(distinct) >= 0.95 * len(present)):
                    report.append({"column": name, "action": "dropped",
                                   "detail": f"id-like: {len(distinct)} distinct values in "
                                             f"{len(present)} rows"})
                    continue
                if len(distinct) > 50 and len(distinct) > len(present) / 2:
                    report.append({"column": name, "action": "dropped",
                                   "detail": f"free text: {len(distinct)} distinct values in "
                                             f"{len(present)} rows"})
                    continue
                values = col.astype(object)
                kind, action = "categorical", "categorical"
                detail = f"{len(distinct)} categories" + blank_note
                if n_missing:
                    detail += " (kept as their own category)"
        if _perfect(values, y, kind == "numeric"):
            report.append({"column": name, "action": "dropped",
                           "detail": "separates the target perfectly on its own: probable leakage"})
            continue
        features[name] = values
        (numeric if kind == "numeric" else categorical).append(name)
        report.append({"column": name, "action": action, "detail": detail})
    if not features:
        raise TableError("customer table: no usable feature column is left after cleaning; see the "
                         "report: " + "; ".join(f"{r['column']}: {r['detail']}" for r in report))
    X = pd.DataFrame(features)
    for c in numeric:
        X[c] = X[c].astype("float64")
    for c in categorical:
        X[c] = X[c].astype(object)
    return PreparedTable(X=X, y=y, ids=ids, numeric=numeric, categorical=categorical,
                         report=pd.DataFrame(report, columns=["column", "action", "detail"]),
                         target=target, positive=pos, rows_in=rows_in,
                         columns_in=raw.shape[1])


@dataclass
class TableEvaluation:
    """:func:`evaluate_table` result: the prepared table and the cross-validation."""

    prepared: PreparedTable
    cv: CVResult

    def as_dict(self, source: str = "") -> dict:
        """Plain-JSON summary: table facts, column actions and per-model mean/std of each metric."""
        p = self.prepared
        return {
            "table": source, "rows": p.rows_in, "columns": p.columns_in, "rows_used": int(len(p.y)), "target": p.target,
            "positive": p.positive, "positives": p.positives, "prevalence": round(p.prevalence, 6),
            "numeric_features": p.numeric, "categorical_features": p.categorical,
            "column_actions": p.report.to_dict(orient="records"),
            "cv": self.cv.cv, "seed": self.cv.seed,
            "models": {m: {k: {"mean": round(v["mean"], 6), "std": round(v["std"], 6)}
                           for k, v in metrics.items()}
                       for m, metrics in self.cv.as_dict().items()},
        }


def evaluate_table(frame: pd.DataFrame, target: str, *, positive: str | None = None,
                   id_column: str | None = None, cv: int = 5, seed: int = 42,
                   kinds: Sequence[str] = MODEL_KINDS) -> TableEvaluation:
    """:func:`prepare_table` then seeded stratified cross-validation of each model and the baseline."""
    prepared = prepare_table(frame, target, positive=positive, id_column=id_column)
    result = cross_validate(prepared.X, prepared.y, kinds=kinds, cv=cv, seed=seed,
                            numeric=prepared.numeric, categorical=prepared.categorical)
    return TableEvaluation(prepared=prepared, cv=result)
