"""What :func:`~revops_kit.forecast.models.forecast` returns (:class:`ForecastResult`) and the error
it raises on a series it cannot forecast (:class:`ForecastInputError`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import RevOpsError

__all__ = ["ForecastResult", "ForecastInputError"]


class ForecastInputError(RevOpsError, ValueError):
    """The series given to :func:`forecast` cannot be forecast (empty, gaps, NaN, bad ``h``)."""


@dataclass(frozen=True)
class ForecastResult:
    """A forecast with prediction intervals (immutable).

    Attributes
    ----------
    frame : DataFrame
        ``mean``, then ``lower_<l>`` and ``upper_<l>`` for every level ``l``, indexed by the future
        dates (continuing the input's frequency) or by integer positions for an input without
        dates. A fresh copy on every access.
    method : str
        The method asked for.
    model : str
        What was actually fitted (e.g. ``"auto: theta + ses + damped + airline"``).
    members : tuple of str
        Members of a combination (one element otherwise).
    season_length : int
        Season length used (1 = non-seasonal).
    seasonal : bool
        Whether the seasonality test passed and the data were seasonally adjusted.
    n_obs : int
        Length of the history.
    levels : tuple of int
        Interval levels in percent.
    fallbacks : tuple of str
        What was replaced by a simpler model, and why (also emitted as warnings).
    history : Series
        The series the model was fitted on (a copy).
    cpu_seconds : float
        CPU time the fit took (in the process that ran it).
    """

    _frame: pd.DataFrame = field(repr=False)
    method: str
    model: str
    members: tuple[str, ...]
    season_length: int
    seasonal: bool
    n_obs: int
    levels: tuple[int, ...]
    fallbacks: tuple[str, ...] = ()
    _history: pd.Series | None = field(default=None, repr=False)
    cpu_seconds: float = field(default=float("nan"), repr=False, compare=False)

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    @property
    def history(self) -> pd.Series | None:
        return None if self._history is None else self._history.copy()

    @property
    def mean(self) -> pd.Series:
        """The point forecast (a copy)."""
        return self._frame["mean"].copy()

    @property
    def h(self) -> int:
        return len(self._frame)

    def summary(self) -> pd.DataFrame:
        """What was fitted and the forecast at a glance, as a two-column table (item, value)."""
        f = self._frame
        rows = [
            ("method", self.method),
            ("model", self.model),
            ("members", ", ".join(self.members)),
            ("observations", self.n_obs),
            ("season length", self.season_length),
            ("seasonally adjusted", self.seasonal),
            ("horizon", len(f)),
            ("first forecast", f"{_label(f.index[0])}: {f['mean'].iloc[0]:,.2f}"),
            ("last forecast", f"{_label(f.index[-1])}: {f['mean'].iloc[-1]:,.2f}"),
            ("total of the mean forecast", f"{f['mean'].sum():,.2f}"),
        ]
        for lev in self.levels:
            rows.append((f"{lev}% interval at the last step",
                         f"{f[f'lower_{lev}'].iloc[-1]:,.2f} .. {f[f'upper_{lev}'].iloc[-1]:,.2f}"))
        rows.append(("fallbacks", "; ".join(self.fallbacks) or "none"))
        return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})

    def __repr__(self) -> str:
        return (f"ForecastResult(method={self.method!r}, model={self.model!r}, h={len(self._frame)}, "
                f"n_obs={self.n_obs}, fallbacks={len(self.fallbacks)})")


def _label(step) -> str:
    return str(step.date()) if isinstance(step, pd.Timestamp) else str(step)
