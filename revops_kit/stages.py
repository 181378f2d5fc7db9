"""The one rule that decides whether an opportunity (or a stage name) is open, won or lost.

Used by pipeline (outcomes and the point-in-time timeline), quality (consistency of stage names
with the closed/won flags) and crm mapping (:func:`revops_kit.crm.infer_stage_map`). The rule:

1. an explicit ``stage_map`` (stage name → outcome, exact match) when given;
2. the ``is_won`` / ``is_closed`` flags when present and not missing (won → won; not closed →
   open; closed and not won → lost);
3. a learned stage → outcome mapping (what the flags of the current opportunities say about each
   stage name, majority per name: :func:`learned_outcomes`);
4. the stage name: contains the word "won" → won; "lost" or "closed" → lost; anything else open.
   (So "Closed Won" is won, "Closed Lost" and "Closed - no decision" are lost.)

:func:`name_outcome` is step 4 alone; :func:`is_closed_name` is "won or lost by name".
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["OPEN", "WON", "LOST", "OUTCOMES", "WON_PATTERN", "LOST_PATTERN", "stage_outcome",
           "learned_outcomes", "name_outcome", "is_closed_name"]

OPEN, WON, LOST = "open", "won", "lost"
OUTCOMES = (OPEN, WON, LOST)
#: Stage names that say won / lost (case-insensitive, whole words).
WON_PATTERN = re.compile(r"\bwon\b", re.I)
LOST_PATTERN = re.compile(r"\blost\b|\bclosed\b", re.I)


def name_outcome(names) -> np.ndarray:
    """Outcome from stage names alone (step 4 of the rule); missing names are open.

    >>> name_outcome(["Demo", "Closed Won", "Closed Lost", "Closed - no decision", None]).tolist()
    ['open', 'won', 'lost', 'lost', 'open']
    """
    t = pd.Series(names, dtype=object).fillna("").astype(str)
    return np.where(t.str.contains(WON_PATTERN), WON, np.where(t.str.contains(LOST_PATTERN), LOST, OPEN))


def is_closed_name(names) -> np.ndarray:
    """Whether each stage name says the deal is closed (won or lost by :func:`name_outcome`)."""
    return name_outcome(names) != OPEN


def stage_outcome(frame: pd.DataFrame, *, stage: str = "stage",
                  stage_map: Mapping[str, str] | None = None,
                  known: Mapping[str, str] | None = None) -> pd.Series:
    """``"open"``, ``"won"`` or ``"lost"`` for each row of ``frame``.

    Order of precedence: ``stage_map`` (stage name → outcome, exact match) when given; the
    ``is_won`` / ``is_closed`` flags when present and not missing; ``known`` (a learned stage →
    outcome mapping); the stage name (contains "won" → won; "lost" or "closed" → lost; else open).

    >>> f = pd.DataFrame({"stage": ["Demo", "Closed Won", "Closed Lost", "Closed - no decision"]})
    >>> stage_outcome(f).tolist()
    ['open', 'won', 'lost', 'lost']
    """
    text = frame[stage].astype(object)
    out = pd.Series(np.nan, index=frame.index, dtype=object)
    if "is_closed" in frame.columns or "is_won" in frame.columns:
        won = frame["is_won"].astype("boolean") if "is_won" in frame.columns else None
        closed = frame["is_closed"].astype("boolean") if "is_closed" in frame.columns else None
        if won is not None:
            out[(won == True).fillna(False).to_numpy(dtype=bool)] = WON  # noqa: E712
        if closed is not None:
            out[(closed == False).fillna(False).to_numpy(dtype=bool)] = OPEN  # noqa: E712
            if won is not None:
                lost = ((closed == True) & (won == False)).fillna(False).to_numpy(dtype=bool)  # noqa: E712
                out[lost] = LOST
    rest = out.isna()
    if known and rest.any():
        out[rest] = text[rest].map(dict(known))
        rest = out.isna()
    if rest.any():
        out[rest] = name_outcome(text[rest].to_numpy())
    if stage_map:
        mapped = text.map(dict(stage_map))
        bad = set(mapped.dropna()) - {OPEN, WON, LOST}
        if bad:
            raise ValueError(f"stage_outcome: stage_map values must be 'open', 'won' or 'lost', got {sorted(bad)}")
        out = mapped.where(mapped.notna(), out)
    return out.astype(object)


def learned_outcomes(opps: pd.DataFrame) -> dict[str, str]:
    """Stage → outcome as the opportunities' flags say (majority per stage)."""
    if "is_closed" not in opps.columns and "is_won" not in opps.columns:
        return {}
    flagged = opps[["stage"]].copy()
    flagged["outcome"] = stage_outcome(opps)
    counts = flagged.dropna().groupby(["stage", "outcome"]).size().reset_index(name="n")
    counts = counts.sort_values(["stage", "n"], ascending=[True, False], kind="mergesort")
    return dict(counts.drop_duplicates("stage")[["stage", "outcome"]].itertuples(index=False, name=None))
