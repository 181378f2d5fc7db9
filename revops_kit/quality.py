"""Data-quality KPIs: completeness, validity, consistency, uniqueness, integrity, timeliness,
and a CRM quality score.

Data quality is measured by **checks**. A check looks at the rows of one table that are *in scope*
for a period, and says which of them fail. Every check belongs to one dimension:

============  ===============================================================================
dimension     what fails
============  ===============================================================================
completeness  a column that should be filled is blank (one check per expected column)
validity      a value outside its domain: the schema's allowed values and bounds, ISO codes,
              period labels, dates in the wrong order, malformed web domains, won deals at 0
consistency   two facts that disagree: stage name vs won/closed flags, probability and forecast
              category vs outcome, the latest stage history vs the current stage, overlapping
              periods of one product line, and the **CRM ↔ billing** checks below
uniqueness    a duplicated key, or a *likely-duplicate account* (same normalised name or domain)
integrity     an orphan reference (the schema's cross-table ``*_exists`` checks), a won deal
              without an account, an opportunity without stage history, a converted lead
              without a customer
timeliness    an open opportunity whose close date had passed at the period end (stale; the
              close date recorded by then in the stage history), an open opportunity
              without any change for ``inactivity_days``, a table whose newest row is older than
              ``freshness_days`` at the period end
============  ===============================================================================

Cross-system (CRM ↔ billing) consistency checks:

* ``opportunities.customer_id:won_deal_has_subscription`` — every won new-business opportunity
  closed in the period has a subscription of the same customer starting within
  ``window_days`` (default 30) of its close date, before or after.
* ``opportunities.amount:won_deal_matches_billing`` — for those that have one, the opportunity
  amount (annual) matches 12 × the first MRR (the MRR of the customer's subscription rows starting
  on the first start date in the window) within ``tolerance`` (default 10 %) of the amount. Both
  sides are compared in the reporting currency when ``fx_rates`` can convert them.
* ``subscriptions.customer_id:paying_customer_in_crm`` — every customer paying (MRR > 0) in the
  period exists in the CRM: it has an account in ``customers`` **and**, when the dataset has
  ``opportunities``, at least one opportunity created before the period end. Self-serve customers
  who never talked to sales therefore fail: billing knows them, the CRM does not.

Likely-duplicate accounts: names are normalised (lowercase, accents and punctuation removed, legal
suffixes such as Inc, Ltd, LLC, GmbH, Corp, Co, SA, AG, PLC, BV dropped from the end) and domains
are normalised (lowercase, no scheme, ``www.`` or path; free-mail domains such as gmail.com are
ignored). Accounts sharing either key form a cluster; the oldest account of a cluster (by
``created_at``, then ``customer_id``) is the original and every other member fails.

Scope of a period ``[start, end)`` — which rows a check looks at:

* customers: accounts created before the period end (the account base at the end);
* subscriptions: rows overlapping the period;
* opportunities: opportunities open at some time in the period (created before the end and not
  closed before the start);
* quotas and targets: rows whose period label overlaps the period;
* every other table: rows whose date column (``schema.TABLES[t].date_column``) is in the period.

Rows whose date is missing are in scope of every period (so a blank date never hides a row).
Event-like checks have their own population, stated in their description (won deals closed in the
period, customers paying in the period, opportunities open at the period end).

A dimension's value for a table is ``passed ÷ checked`` summed over the dimension's checks on the
table (cells for completeness, rows otherwise; freshness counts one unit per table). Checks with
nothing in scope are left out. The CRM quality score is

    crm_quality_score = 100 × Σ_d w_d · S_d ÷ Σ_d w_d

over the dimensions ``d`` that have at least one CRM check, where ``S_d`` is the dimension's value
over the CRM checks — the checks on ``customers``, ``opportunities``, ``opportunity_history`` and
``leads`` plus the CRM ↔ billing checks — and the weights ``w_d`` are :data:`DQ_WEIGHTS`:
completeness 0.25, consistency 0.25, validity 0.15, uniqueness 0.15, integrity 0.10,
timeliness 0.10 (completeness and consistency weigh most because they decide whether pipeline and
bookings can be trusted at all).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from ._common import safe_divide, to_reporting_currency
from .catalog import register
from .errors import RevOpsError
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .schema import CROSS_CHECKS, TABLES

__all__ = [
    "DIMENSIONS",
    "DQ_WEIGHTS",
    "CRM_TABLES",
    "QualityConfig",
    "DEFAULT_QUALITY",
    "UnknownCheckError",
    "normalize_company_name",
    "normalize_domain",
    "likely_duplicate_accounts",
    "dq_checks",
    "dq_failing_rows",
    "dq_examples",
    "dq_completeness",
    "dq_validity",
    "dq_consistency",
    "dq_uniqueness",
    "dq_integrity",
    "dq_timeliness",
    "crm_quality_score",
    "dq_summary",
    "dq_scorecard",
    "dq_trend",
    "dq_worst_checks",
    "dq_offenders",
    "dq_costs",
    "check_dimension",
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
_EXPECTED: dict[str, tuple[str, ...]] = {
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
_FRESHNESS_TABLES = ("customers", "subscriptions", "invoices", "opportunities",
                     "opportunity_history", "leads", "support_tickets", "product_usage", "costs",
                     "fx_rates")

_LEGAL_SUFFIXES = ("inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "gmbh", "corp",
                   "corporation", "co", "company", "plc", "sa", "sas", "sarl", "srl", "spa", "ag",
                   "kg", "bv", "nv", "ab", "as", "oy", "pty", "pte", "kk")
_SUFFIX_RE = re.compile(r"(?:\s+(?:" + "|".join(_LEGAL_SUFFIXES) + r"))+\s*$")
_DOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_WON_RE = re.compile(r"\bwon\b", re.I)
_LOST_RE = re.compile(r"\blost\b", re.I)


# ---------------------------------------------------------------------- normalisation
def normalize_company_name(names: pd.Series) -> pd.Series:
    """Company names reduced to a matching key.

    Lowercase, accents, dots and apostrophes removed, every other non-alphanumeric character turned
    into a space, legal
    suffixes (Inc, Ltd, LLC, GmbH, Corp, Co, SA, AG, PLC, BV ...) dropped from the end, spaces
    collapsed. Blank names give ``<NA>``.

    >>> normalize_company_name(pd.Series(["ACME Inc.", "Acme, Inc", "acme GmbH & Co. KG", "Bolt S.A.", " "])).tolist()
    ['acme', 'acme', 'acme', 'bolt', <NA>]
    """

    text = names.astype("string").str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    text = text.str.lower().str.replace(r"[.']", "", regex=True)  # S.A. -> sa, O'Neil -> oneil
    text = text.str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    stripped = (" " + text).str.replace(_SUFFIX_RE, "", regex=True).str.strip()
    text = stripped.where(stripped != "", text)  # a name that is only a suffix keeps it
    return text.where(text != "", pd.NA).astype("string")


def normalize_domain(domains: pd.Series, *, ignore: Iterable[str] = DEFAULT_QUALITY.free_mail_domains
                     ) -> pd.Series:
    """Web domains reduced to a matching key (lowercase; no scheme, ``www.``, port, path or e-mail
    user part); free-mail domains in ``ignore`` and blanks give ``<NA>``.

    >>> normalize_domain(pd.Series(["https://www.Acme.com/about", "sales@acme.com", "gmail.com"])).tolist()
    ['acme.com', 'acme.com', <NA>]
    """
    text = domains.astype("string").str.strip().str.lower()
    text = text.str.replace(r"^[a-z][a-z0-9+.-]*://", "", regex=True)
    text = text.str.replace(r"^[^@/]*@", "", regex=True)
    text = text.str.replace(r"[/?#:].*$", "", regex=True)
    text = text.str.replace(r"^www\d?\.", "", regex=True).str.strip(".")
    text = text.where(~text.isin(list(ignore)) & (text != ""), pd.NA)
    return text.astype("string")


def likely_duplicate_accounts(customers: pd.DataFrame, *,
                              config: QualityConfig = DEFAULT_QUALITY) -> pd.DataFrame:
    """Accounts that are likely duplicates of an older account.

    Accounts sharing a normalised name (:func:`normalize_company_name`) or a normalised domain
    (:func:`normalize_domain`) are linked; linked accounts form a cluster. The oldest account of a
    cluster (``created_at``, then ``customer_id``) is the original; every other member is returned.

    Returns
    -------
    DataFrame
        One row per duplicate, indexed like ``customers``: ``customer_id``, ``name``,
        ``duplicate_of`` (the original's id), ``duplicate_of_name`` and ``matched_on``
        (``name``, ``domain``, ``name+domain``, or ``linked`` when only a chain of matches links it).

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "name": ["Acme Inc", "ACME", "Bolt"],
    ...                   "domain": ["acme.com", None, "bolt.io"]})
    >>> likely_duplicate_accounts(c)[["customer_id", "duplicate_of", "matched_on"]].values.tolist()
    [['b', 'a', 'name']]
    """
    cols = ["customer_id", "name", "duplicate_of", "duplicate_of_name", "matched_on"]
    n = len(customers)
    if n == 0 or "customer_id" not in customers.columns:
        return pd.DataFrame(columns=cols)
    name_key = (normalize_company_name(customers["name"]) if "name" in customers.columns
                else pd.Series(pd.NA, index=customers.index, dtype="string"))
    dom_key = (normalize_domain(customers["domain"], ignore=config.free_mail_domains)
               if "domain" in customers.columns
               else pd.Series(pd.NA, index=customers.index, dtype="string"))
    created = (customers["created_at"] if "created_at" in customers.columns
               else pd.Series(pd.NaT, index=customers.index, dtype="datetime64[ns]"))
    order = pd.DataFrame({"created": created.to_numpy(), "id": customers["customer_id"].astype(str).to_numpy(),
                          "pos": np.arange(n)}).sort_values(["created", "id", "pos"], na_position="last")
    rank = np.empty(n, dtype=int)
    rank[order["pos"].to_numpy()] = np.arange(n)

    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for key in (name_key, dom_key):
        have = key.notna().to_numpy()
        pos = pd.Series(np.arange(n)[have])
        first = pos.groupby(key.to_numpy()[have].astype(object)).transform("min").to_numpy()
        for a, b in zip(pos.to_numpy()[first != pos.to_numpy()], first[first != pos.to_numpy()]):
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                # the member of lowest rank becomes the root, so the root is the original
                if rank[ra] <= rank[rb]:
                    parent[rb] = ra
                else:
                    parent[ra] = rb
    roots = np.array([find(i) for i in range(n)])
    # the original is the member of lowest rank
    best: dict[int, int] = {}
    for i in range(n):
        r = roots[i]
        if r not in best or rank[i] < rank[best[r]]:
            best[r] = i
    original = np.array([best[roots[i]] for i in range(n)])
    dup = original != np.arange(n)
    if not dup.any():
        return pd.DataFrame(columns=cols)
    idx = np.flatnonzero(dup)
    orig = original[idx]
    nk, dk = name_key.to_numpy(), dom_key.to_numpy()

    def same(keys, i, j) -> bool:
        a, b = keys[i], keys[j]
        return not (a is pd.NA or b is pd.NA) and a == b

    matched = []
    for i, j in zip(idx, orig):
        by_name, by_dom = same(nk, i, j), same(dk, i, j)
        matched.append("name+domain" if by_name and by_dom else "name" if by_name
                       else "domain" if by_dom else "linked")
    names = customers["name"] if "name" in customers.columns else pd.Series(pd.NA, index=customers.index)
    ids = customers["customer_id"]
    return pd.DataFrame({
        "customer_id": ids.iloc[idx].to_numpy(),
        "name": names.iloc[idx].to_numpy(),
        "duplicate_of": ids.iloc[orig].to_numpy(),
        "duplicate_of_name": names.iloc[orig].to_numpy(),
        "matched_on": matched,
    }, index=customers.index[idx])


# ---------------------------------------------------------------------- check machinery
@dataclass
class _Outcome:
    rows: pd.DataFrame                     # rows in scope (a subset of the table, or derived rows)
    failed: pd.Series                      # boolean, aligned with rows.index
    detail: pd.DataFrame | None = None     # extra columns explaining failures, aligned with rows
    table_rows: bool = True                # rows are rows of the check's table (index = row label)


@dataclass(frozen=True)
class _Check:
    id: str
    dimension: str
    table: str
    column: str
    description: str
    run: Callable[["_Ctx"], _Outcome | None] = field(repr=False, compare=False)
    crm: bool = False


class _Ctx:
    """Everything a check needs, with per-call caches (scopes, duplicate clusters ...)."""

    def __init__(self, data, period: Period, config: QualityConfig, policy: MetricPolicy):
        self.data, self.p, self.config, self.policy = data, period, config, policy
        self._cache: dict = {}

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self.data, name)

    def scope(self, name: str) -> pd.DataFrame:
        return self.cached(("scope", name), lambda: self.table(name).loc[_scope_mask(self, name)])


def _isin(values: pd.Series, known) -> pd.Series:
    """``values.isin(known)`` as a bool Series (object comparison: much faster than on Arrow strings)."""
    ref = np.asarray(pd.Series(known).dropna().astype(object).unique(), dtype=object)
    return values.astype(object).isin(ref).astype(bool)


def _in_period(dates: pd.Series, p: Period) -> pd.Series:
    return (dates.isna() | ((dates >= p.start) & (dates < p.end))).astype(bool)


def _bool(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    return frame[col].astype("boolean")


def _closed_flag(opps: pd.DataFrame) -> pd.Series:
    """Closed according to ``is_closed``, else to the stage name (Closed ..., ... Won/Lost)."""
    stage = opps["stage"].astype("string") if "stage" in opps.columns else pd.Series(pd.NA, index=opps.index, dtype="string")
    by_stage = stage.str.contains(r"\bclosed\b|\bwon\b|\blost\b", case=False, regex=True)
    return _bool(opps, "is_closed").fillna(by_stage.astype("boolean")).fillna(False).astype(bool)


def _won_flag(opps: pd.DataFrame) -> pd.Series:
    stage = opps["stage"].astype("string") if "stage" in opps.columns else pd.Series(pd.NA, index=opps.index, dtype="string")
    by_stage = stage.str.contains(r"\bwon\b", case=False, regex=True)
    return _bool(opps, "is_won").fillna(by_stage.astype("boolean")).fillna(False).astype(bool)


def _labels_overlap(labels: pd.Series, p: Period) -> pd.Series:
    out = {}
    for label in labels.dropna().unique():
        try:
            q = Period.parse(label, fiscal_year_start=p.fiscal_year_start)
            out[label] = bool(q.start < p.end and q.end > p.start)
        except ValueError:
            out[label] = True  # unparsable: in scope so that validity reports it
    return labels.map(out).fillna(True).astype(bool)


def _scope_mask(ctx: _Ctx, name: str) -> pd.Series:
    frame, p = ctx.table(name), ctx.p
    if name == "customers":
        if "created_at" not in frame.columns:
            return pd.Series(True, index=frame.index)
        return (frame["created_at"].isna() | (frame["created_at"] < p.end)).astype(bool)
    if name == "subscriptions":
        start = frame["start_date"]
        end = frame["end_date"] if "end_date" in frame.columns else pd.Series(pd.NaT, index=frame.index)
        return (start.isna() | ((start < p.end) & (end.isna() | (end > p.start)))).astype(bool)
    if name == "opportunities":
        created = frame["created_at"]
        closed_before = _closed_flag(frame) & (frame["close_date"] < p.start if "close_date" in frame.columns
                                               else False)
        return ((created.isna() | (created < p.end)) & ~closed_before).astype(bool)
    if name in ("quotas", "targets"):
        return _labels_overlap(frame["period"], p)
    col = TABLES[name].date_column
    if col is None or col not in frame.columns:
        return pd.Series(True, index=frame.index)
    return _in_period(frame[col], p)


def _open_at_end(ctx: _Ctx) -> pd.DataFrame:
    """Opportunities open at the period end: created before it and not closed before it."""

    def make():
        o = ctx.table("opportunities")
        p = ctx.p
        closed = _closed_flag(o)
        close = o["close_date"] if "close_date" in o.columns else pd.Series(pd.NaT, index=o.index)
        created_ok = o["created_at"].isna() | (o["created_at"] < p.end)
        open_now = ~closed
        closed_later = closed & (close >= p.end)
        return o.loc[created_ok & (open_now | closed_later)]

    return ctx.cached("open_at_end", make)


def _close_date_at_end(ctx: _Ctx, rows: pd.DataFrame) -> pd.Series:
    """The close date each opportunity had at the period end: the last one recorded in the stage
    history before the end when there is a history, else the current close date."""
    current = rows["close_date"] if "close_date" in rows.columns else pd.Series(pd.NaT, index=rows.index)
    hist = ctx.data.opportunity_history
    if hist is None or "close_date" not in hist.columns:
        return current
    h = hist.loc[(hist["changed_at"] < ctx.p.end) & hist["close_date"].notna(),
                 ["opportunity_id", "changed_at", "close_date"]]
    h = h.assign(_pos=np.arange(len(h))).sort_values(["opportunity_id", "changed_at", "_pos"], kind="stable")
    recorded = h.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")["close_date"]
    at_end = pd.Series(rows["opportunity_id"].map(recorded).to_numpy(), index=rows.index, dtype="datetime64[ns]")
    return at_end.fillna(current)


def _mrr_at_end(ctx: _Ctx) -> pd.Series:
    """Period-end MRR by customer in the reporting currency (0 for customers without)."""

    def make():
        from .revenue import active_subscriptions

        subs = ctx.data.subscriptions
        if subs is None:
            return pd.Series(dtype="float64")
        try:
            act = active_subscriptions(subs, ctx.p.last_month, fx_rates=ctx.data.fx_rates, policy=ctx.policy)
            return act.groupby("customer_id")["mrr_reporting"].sum()
        except RevOpsError:  # no FX for a currency: keep the original amounts
            m = ctx.p.last_month
            act = subs[(subs["start_date"] <= m) & (subs["end_date"].isna() | (subs["end_date"] > m))
                       & (subs["mrr"] > 0)]
            return act.groupby("customer_id")["mrr"].sum()

    return ctx.cached("mrr_at_end", make)


def _reporting(ctx: _Ctx, frame: pd.DataFrame, amount: str, date: str, table: str) -> pd.Series:
    """``frame[amount]`` in the reporting currency, or unchanged when it cannot be converted."""
    try:
        return to_reporting_currency(frame, amount, date, ctx.data.fx_rates, ctx.policy, table=table)
    except RevOpsError:
        return frame[amount].astype("float64")


# ---------------------------------------------------------------------- check builders
def _completeness_checks(data) -> list[_Check]:
    checks = []
    for table, cols in _EXPECTED.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        for col in cols:
            if col not in frame.columns:
                continue

            def run(ctx, table=table, col=col):
                rows = ctx.scope(table)
                values = rows[col]
                blank = values.isna()
                if values.dtype == object or pd.api.types.is_string_dtype(values):
                    blank = blank | (values.astype("string").str.strip() == "").fillna(False)
                return _Outcome(rows, blank.astype(bool))

            checks.append(_Check(f"{table}.{col}:not_blank", "completeness", table, col,
                                 f"{table}.{col} is filled", run, table in CRM_TABLES))
    return checks


def _domain_mask(col, values: pd.Series) -> pd.Series | None:
    """True where a present value is outside the schema's domain for ``col``."""
    bad = pd.Series(False, index=values.index)
    present = values.notna()
    if col.allowed is not None:
        bad |= present & ~values.isin(list(col.allowed))
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        if col.ge is not None:
            bad |= present & (values < col.ge)
        if col.gt is not None:
            bad |= present & (values <= col.gt)
        if col.le is not None:
            bad |= present & (values > col.le)
    if col.kind == "currency":
        bad |= present & ~values.astype("string").str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)
    if col.kind == "period":
        labels = values[present]
        ok = {}
        for label in labels.unique():
            try:
                Period.parse(label)
                ok[label] = True
            except ValueError:
                ok[label] = False
        bad |= present & ~values.map(ok).fillna(True).astype(bool)
    return bad.astype(bool)


def _validity_checks(data) -> list[_Check]:
    checks = []
    for table, spec in TABLES.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        for col in spec.columns:
            has_rule = (col.allowed is not None or col.ge is not None or col.gt is not None
                        or col.le is not None or col.kind in ("currency", "period"))
            if not has_rule or col.name not in frame.columns:
                continue
            rule = []
            if col.allowed is not None:
                rule.append("in " + "/".join(map(str, col.allowed)))
            for sym, bound in (("≥", col.ge), (">", col.gt), ("≤", col.le)):
                if bound is not None:
                    rule.append(f"{sym} {bound:g}")
            if col.kind == "currency":
                rule.append("a 3-letter ISO 4217 code")
            if col.kind == "period":
                rule.append("a period label")

            def run(ctx, table=table, col=col):
                rows = ctx.scope(table)
                values = rows[col.name]
                rows = rows.loc[values.notna()]
                return _Outcome(rows, _domain_mask(col, rows[col.name]))

            checks.append(_Check(f"{table}.{col.name}:in_domain", "validity", table, col.name,
                                 f"{table}.{col.name} is {' and '.join(rule)}", run, table in CRM_TABLES))

    # date order checks of the schema plus a few more
    orders = [(c.tables[0], c.column, c.name, c.func) for c in CROSS_CHECKS if len(c.tables) == 1
              and c.name != "won_implies_closed"]

    def after(later: str, earlier: str):
        def func(frame):
            return (frame[later] < frame[earlier]).fillna(False).astype(bool)
        return func

    extra = [("opportunities", "close_date", "close_not_before_created", after("close_date", "created_at"),
              ("close_date", "created_at")),
             ("invoices", "paid_at", "paid_not_before_issue", after("paid_at", "issued_at"), ("paid_at", "issued_at")),
             ("leads", "mql_at", "mql_not_before_created", after("mql_at", "created_at"), ("mql_at", "created_at")),
             ("leads", "sql_at", "sql_not_before_mql", after("sql_at", "mql_at"), ("sql_at", "mql_at")),
             ("leads", "converted_at", "converted_not_before_created", after("converted_at", "created_at"),
              ("converted_at", "created_at"))]
    specs = [(t, c, n, f, None) for t, c, n, f in orders] + extra
    for table, column, name, func, needs in specs:
        frame = getattr(data, table)
        if frame is None or column not in frame.columns or (needs and not set(needs) <= set(frame.columns)):
            continue

        def run(ctx, table=table, column=column, func=func):
            rows = ctx.scope(table)
            rows = rows.loc[rows[column].notna()]
            return _Outcome(rows, func(rows).reindex(rows.index).fillna(False).astype(bool))

        checks.append(_Check(f"{table}.{column}:{name}", "validity", table, column,
                             f"{table}: {name.replace('_', ' ')}", run, table in CRM_TABLES))

    cust = data.customers
    if cust is not None and "domain" in cust.columns:
        def run_domain(ctx):
            rows = ctx.scope("customers")
            rows = rows.loc[rows["domain"].notna()]
            text = rows["domain"].astype("string").str.strip().str.lower()
            text = text.str.replace(r"^[a-z][a-z0-9+.-]*://", "", regex=True).str.replace(r"^www\d?\.", "", regex=True)
            text = text.str.rstrip("/")
            ok = text.str.fullmatch(_DOMAIN_RE.pattern).fillna(False).astype(bool)
            return _Outcome(rows, ~ok)

        checks.append(_Check("customers.domain:well_formed", "validity", "customers", "domain",
                             "customers.domain looks like a web domain (name.tld)", run_domain, True))
    opps = data.opportunities
    if opps is not None:
        def run_won_amount(ctx):
            rows = ctx.scope("opportunities")
            rows = rows.loc[_won_flag(rows) & rows["amount"].notna()]
            return _Outcome(rows, (rows["amount"] <= 0).astype(bool))

        checks.append(_Check("opportunities.amount:won_amount_positive", "validity", "opportunities",
                             "amount", "a won opportunity has an amount > 0", run_won_amount, True))
    return checks


def _consistency_checks(data) -> list[_Check]:
    checks = []
    opps = data.opportunities
    if opps is not None:
        if {"is_won", "is_closed"} <= set(opps.columns):
            def run_won_closed(ctx):
                rows = ctx.scope("opportunities")
                won = _bool(rows, "is_won").fillna(False).astype(bool)
                rows = rows.loc[won]
                return _Outcome(rows, ~_bool(rows, "is_closed").fillna(False).astype(bool))

            checks.append(_Check("opportunities.is_won:won_implies_closed", "consistency", "opportunities",
                                 "is_won", "a won opportunity is closed", run_won_closed, True))
        if "is_won" in opps.columns or "is_closed" in opps.columns:
            def run_stage(ctx):
                rows = ctx.scope("opportunities")
                stage = rows["stage"].astype("string")
                says_won = stage.str.contains(_WON_RE.pattern, case=False, regex=True).fillna(False).astype(bool)
                says_lost = stage.str.contains(_LOST_RE.pattern, case=False, regex=True).fillna(False).astype(bool)
                won, closed = _bool(rows, "is_won"), _bool(rows, "is_closed")
                bad = pd.Series(False, index=rows.index)
                bad |= says_won & (won.eq(False).fillna(False) | closed.eq(False).fillna(False)).astype(bool)
                bad |= says_lost & (won.eq(True).fillna(False) | closed.eq(False).fillna(False)).astype(bool)
                bad |= ~says_won & ~says_lost & won.eq(True).fillna(False).astype(bool)
                mask = says_won | says_lost | won.eq(True).fillna(False).astype(bool)
                return _Outcome(rows.loc[mask], bad.loc[mask])

            checks.append(_Check("opportunities.stage:matches_outcome", "consistency", "opportunities", "stage",
                                 "the stage name agrees with is_won / is_closed (…Won ⇔ won, …Lost ⇒ lost)",
                                 run_stage, True))
        if "probability" in opps.columns:
            def run_prob(ctx):
                rows = ctx.scope("opportunities")
                closed = _closed_flag(rows)
                rows = rows.loc[closed & rows["probability"].notna()]
                won = _won_flag(rows)
                expected = np.where(won, 1.0, 0.0)
                return _Outcome(rows, (rows["probability"] - expected).abs() > 1e-9)

            checks.append(_Check("opportunities.probability:matches_outcome", "consistency", "opportunities",
                                 "probability", "a closed won deal has probability 1 and a lost one 0",
                                 run_prob, True))
        if "forecast_category" in opps.columns:
            def run_fc(ctx):
                rows = ctx.scope("opportunities")
                rows = rows.loc[rows["forecast_category"].notna()]
                closed, won = _closed_flag(rows), _won_flag(rows)
                fc = rows["forecast_category"].astype("string")
                bad = (won & (fc != "closed")) | (closed & ~won & (fc != "omitted")) | (~closed & (fc == "closed"))
                return _Outcome(rows, bad.fillna(False).astype(bool))

            checks.append(_Check("opportunities.forecast_category:matches_outcome", "consistency",
                                 "opportunities", "forecast_category",
                                 "won ⇒ closed, lost ⇒ omitted, open ⇒ not closed", run_fc, True))
    hist = data.opportunity_history
    if opps is not None and hist is not None:
        def run_hist(ctx):
            rows = ctx.scope("opportunities")
            h = ctx.table("opportunity_history")
            h = h.loc[_isin(h["opportunity_id"], rows["opportunity_id"])]
            h = h.loc[h["changed_at"].isna() | (h["changed_at"] < ctx.p.end)]
            order = h.assign(_pos=np.arange(len(h))).sort_values(["opportunity_id", "changed_at", "_pos"],
                                                                 na_position="first", kind="stable")
            last = order.drop_duplicates("opportunity_id", keep="last").drop(columns="_pos")
            current = rows.set_index("opportunity_id")["stage"]
            # an opportunity that changed after the period end may legitimately differ: compare only
            # opportunities whose latest change of all is before the end
            latest_all = ctx.table("opportunity_history").groupby("opportunity_id")["changed_at"].max()
            last = last.loc[(latest_all.reindex(last["opportunity_id"]).to_numpy() < ctx.p.end)
                            | latest_all.reindex(last["opportunity_id"]).isna().to_numpy()]
            expected = last["opportunity_id"].map(current)
            detail = pd.DataFrame({"current_stage": expected}, index=last.index)
            return _Outcome(last, (last["stage"] != expected).fillna(True).astype(bool), detail)

        checks.append(_Check("opportunity_history.stage:matches_current", "consistency",
                             "opportunity_history", "stage",
                             "the latest stage in the history is the opportunity's current stage",
                             run_hist, True))
    subs = data.subscriptions
    if subs is not None and "product" in subs.columns:
        def run_overlap(ctx):
            s = ctx.table("subscriptions")
            s = s.loc[s["product"].notna() & s["start_date"].notna()]
            order = s.assign(_pos=np.arange(len(s))).sort_values(["customer_id", "product", "start_date", "_pos"],
                                                                 kind="stable")
            prev_end = order.groupby(["customer_id", "product"], sort=False)["end_date"].shift()
            prev_open = order.groupby(["customer_id", "product"], sort=False)["start_date"].shift().notna() & prev_end.isna()
            overlap = (prev_end > order["start_date"]).fillna(False).astype(bool) | prev_open.astype(bool)
            in_scope = _scope_mask(ctx, "subscriptions").reindex(order.index).fillna(False).astype(bool)
            rows = order.loc[in_scope].drop(columns="_pos")
            detail = pd.DataFrame({"previous_end": prev_end.loc[rows.index]}, index=rows.index)
            return _Outcome(rows, overlap.loc[rows.index], detail)

        checks.append(_Check("subscriptions.start_date:no_overlap", "consistency", "subscriptions", "start_date",
                             "a customer's periods of one product do not overlap (no double counting)",
                             run_overlap))
    if opps is not None and subs is not None and "customer_id" in opps.columns:
        checks += _billing_checks()
    if subs is not None and (data.customers is not None or opps is not None):
        checks.append(_Check(
            "subscriptions.customer_id:paying_customer_in_crm", "consistency", "subscriptions", "customer_id",
            "a customer paying in the period has an account in customers and, when there are "
            "opportunities, at least one opportunity created before the period end",
            _run_paying_in_crm, True))
    return checks


def _won_deals_vs_billing(ctx: _Ctx) -> pd.DataFrame:
    """Won new-business deals closed in the period, with the first subscription in the window."""

    def make():
        o = ctx.table("opportunities")
        s = ctx.table("subscriptions")
        p, cfg = ctx.p, ctx.config
        won = _won_flag(o)
        close = o["close_date"] if "close_date" in o.columns else pd.Series(pd.NaT, index=o.index)
        nb = (o["type"] == "new_business").fillna(False).astype(bool) if "type" in o.columns else True
        deals = o.loc[won & nb & (close >= p.start) & (close < p.end)].copy()
        deals["_row"] = deals.index
        deals["_amount_rep"] = _reporting(ctx, deals, "amount", "close_date", "opportunities")
        subs = s[["customer_id", "start_date", "mrr"] + (["currency"] if "currency" in s.columns else [])].copy()
        subs["_mrr_rep"] = _reporting(ctx, subs, "mrr", "start_date", "subscriptions")
        pairs = deals[["_row", "customer_id", "close_date"]].dropna(subset=["customer_id"]).merge(
            subs, on="customer_id", how="inner")
        delta = (pairs["start_date"] - pairs["close_date"]).dt.days
        pairs = pairs.loc[delta.abs() <= cfg.window_days]
        first = pairs.groupby("_row")["start_date"].transform("min")
        firsts = pairs.loc[pairs["start_date"] == first].groupby("_row").agg(
            subscription_start=("start_date", "first"), first_mrr=("_mrr_rep", "sum"))
        out = deals.join(firsts, on="_row")
        out["annualised_mrr"] = out["first_mrr"] * 12
        out["difference"] = out["annualised_mrr"] - out["_amount_rep"]
        amount = out["_amount_rep"].abs()
        out["relative_difference"] = out["difference"].abs() / amount.where(amount > 0)
        return out.drop(columns=["_row"])

    return ctx.cached("won_vs_billing", make)


def _billing_checks() -> list[_Check]:
    def run_has_sub(ctx):
        deals = _won_deals_vs_billing(ctx)
        has = deals["subscription_start"].notna()
        reason = np.where(deals["customer_id"].isna(), "opportunity has no customer_id",
                          np.where(has, "", f"no subscription of the customer starts within "
                                            f"{ctx.config.window_days} days of the close date"))
        detail = pd.DataFrame({"reason": reason}, index=deals.index)
        return _Outcome(deals.drop(columns=["_amount_rep"]), ~has, detail)

    def run_amount(ctx):
        deals = _won_deals_vs_billing(ctx)
        rows = deals.loc[deals["subscription_start"].notna() & deals["amount"].notna()]
        bad = rows["difference"].abs() > ctx.config.tolerance * rows["_amount_rep"].abs() + 1e-9
        return _Outcome(rows.drop(columns=["_amount_rep"]), bad.astype(bool))

    return [
        _Check("opportunities.customer_id:won_deal_has_subscription", "consistency", "opportunities",
               "customer_id", "a won new-business deal closed in the period has a subscription starting "
               "within window_days of its close date (CRM ↔ billing)", run_has_sub, True),
        _Check("opportunities.amount:won_deal_matches_billing", "consistency", "opportunities", "amount",
               "a won new-business deal's amount (annual) is within tolerance of 12 × its first MRR "
               "(CRM ↔ billing)", run_amount, True),
    ]


def _run_paying_in_crm(ctx: _Ctx) -> _Outcome | None:
    s, p = ctx.table("subscriptions"), ctx.p
    paying = s.loc[_scope_mask(ctx, "subscriptions") & (s["mrr"] > 0) & s["start_date"].notna()]
    ids = pd.Index(paying["customer_id"].dropna().unique()).sort_values()
    rows = pd.DataFrame({"customer_id": ids})
    mrr_end = _mrr_at_end(ctx)
    rows["mrr_period_end"] = rows["customer_id"].map(mrr_end).fillna(0.0).astype("float64")
    cust = ctx.data.customers
    in_customers = (_isin(rows["customer_id"], cust["customer_id"]) if cust is not None
                    else pd.Series(True, index=rows.index))
    if cust is not None and "name" in cust.columns:
        rows.insert(1, "name", rows["customer_id"].map(cust.drop_duplicates("customer_id").set_index("customer_id")["name"]))
    opps = ctx.data.opportunities
    if opps is not None:
        known = opps.loc[opps["created_at"].isna() | (opps["created_at"] < p.end), "customer_id"] \
            if "customer_id" in opps.columns else pd.Series([], dtype=object)
        has_opp = _isin(rows["customer_id"], known)
    else:
        has_opp = pd.Series(True, index=rows.index)
    reason = np.where(~in_customers, "no account in customers",
                      np.where(~has_opp, "no opportunity in the CRM", ""))
    return _Outcome(rows, (~in_customers | ~has_opp).astype(bool), pd.DataFrame({"reason": reason}, index=rows.index),
                    table_rows=False)


def _uniqueness_checks(data) -> list[_Check]:
    checks = []
    for table, spec in TABLES.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        keys = [list(spec.key)] if spec.key else []
        keys += [[c.name] for c in spec.columns if c.unique and [c.name] not in keys]
        for key in keys:
            if not set(key) <= set(frame.columns):
                continue

            def run(ctx, table=table, key=key):
                full = ctx.table(table)
                dup = full.duplicated(key, keep="first")
                rows = ctx.scope(table)
                return _Outcome(rows, dup.loc[rows.index].astype(bool))

            checks.append(_Check(f"{table}.{'+'.join(key)}:unique", "uniqueness", table, "+".join(key),
                                 f"{table}: {' + '.join(key)} is unique", run, table in CRM_TABLES))
    cust = data.customers
    if cust is not None and ("name" in cust.columns or "domain" in cust.columns):
        def run_dups(ctx):
            dups = ctx.cached("dups", lambda: likely_duplicate_accounts(ctx.table("customers"), config=ctx.config))
            rows = ctx.scope("customers")
            failed = pd.Series(rows.index.isin(dups.index), index=rows.index)
            detail = dups.drop(columns=["customer_id", "name"]).reindex(rows.index)
            return _Outcome(rows, failed, detail)

        checks.append(_Check("customers.name:likely_duplicate", "uniqueness", "customers", "name",
                             "an account is not a likely duplicate of an older one "
                             "(same normalised name or web domain)", run_dups, True))
    return checks


def _integrity_checks(data) -> list[_Check]:
    checks = []
    present = {n for n in TABLES if getattr(data, n) is not None}
    for cc in CROSS_CHECKS:
        if not cc.name.endswith("_exists") or not set(cc.tables) <= present:
            continue
        child, parent = cc.tables
        if cc.column not in getattr(data, child).columns:
            continue

        parent_col = "opportunity_id" if parent == "opportunities" else "customer_id"

        def run(ctx, cc=cc, child=child, parent=parent, parent_col=parent_col):
            rows = ctx.scope(child)
            rows = rows.loc[rows[cc.column].notna()]
            return _Outcome(rows, ~_isin(rows[cc.column], ctx.table(parent)[parent_col]))

        checks.append(_Check(f"{child}.{cc.column}:{cc.name}", "integrity", child, cc.column,
                             f"every {child}.{cc.column} exists in {parent}", run,
                             child in CRM_TABLES))
    opps = data.opportunities
    if opps is not None and "customer_id" in opps.columns:
        def run_account(ctx):
            rows = ctx.scope("opportunities")
            rows = rows.loc[_won_flag(rows)]
            return _Outcome(rows, rows["customer_id"].isna().astype(bool))

        checks.append(_Check("opportunities.customer_id:won_deal_has_account", "integrity", "opportunities",
                             "customer_id", "a won opportunity is linked to an account", run_account, True))
    if opps is not None and data.opportunity_history is not None:
        def run_has_hist(ctx):
            rows = ctx.scope("opportunities")
            known = ctx.table("opportunity_history")["opportunity_id"]
            return _Outcome(rows, ~_isin(rows["opportunity_id"], known))

        checks.append(_Check("opportunities.opportunity_id:has_history", "integrity", "opportunities",
                             "opportunity_id", "an opportunity has at least one stage-history row",
                             run_has_hist, True))
    leads = data.leads
    if leads is not None and {"converted_at", "customer_id"} <= set(leads.columns):
        def run_lead(ctx):
            rows = ctx.scope("leads")
            rows = rows.loc[rows["converted_at"].notna()]
            return _Outcome(rows, rows["customer_id"].isna().astype(bool))

        checks.append(_Check("leads.customer_id:converted_has_customer", "integrity", "leads", "customer_id",
                             "a converted lead is linked to its customer", run_lead, True))
    return checks


def _timeliness_checks(data) -> list[_Check]:
    checks = []
    opps = data.opportunities
    if opps is not None and "close_date" in opps.columns:
        def run_stale(ctx):
            rows = _open_at_end(ctx)
            close = _close_date_at_end(ctx, rows)
            rows, close = rows.loc[close.notna()], close.loc[close.notna()]
            still_open = ~_closed_flag(rows) | (rows["close_date"] >= ctx.p.end).fillna(False).astype(bool)
            stale = still_open & (close < ctx.p.end)
            days = (ctx.p.end - close).dt.days
            detail = pd.DataFrame({"close_date_at_period_end": close,
                                   "days_past_close": days.where(stale)}, index=rows.index)
            return _Outcome(rows, stale.astype(bool), detail)

        checks.append(_Check("opportunities.close_date:not_stale", "timeliness", "opportunities", "close_date",
                             "an opportunity open at the period end has a close date on or after it "
                             "(the close date recorded by then, from the stage history when there is one)",
                             run_stale, True))
    if opps is not None and data.opportunity_history is not None:
        def run_inactive(ctx):
            rows = _open_at_end(ctx)
            h = ctx.table("opportunity_history")
            h = h.loc[h["changed_at"] < ctx.p.end]
            last = h.groupby("opportunity_id")["changed_at"].max()
            last_change = rows["opportunity_id"].map(last)
            rows = rows.loc[last_change.notna()]
            last_change = last_change.loc[rows.index]
            idle = (ctx.p.end - last_change).dt.days
            detail = pd.DataFrame({"last_change": last_change, "days_idle": idle}, index=rows.index)
            return _Outcome(rows, (idle > ctx.config.inactivity_days).astype(bool), detail)

        checks.append(_Check("opportunities.changed_at:recent_activity", "timeliness", "opportunities",
                             "changed_at", "an opportunity open at the period end changed within "
                             "inactivity_days before it", run_inactive, True))
    for table in _FRESHNESS_TABLES:
        frame = getattr(data, table)
        col = TABLES[table].date_column
        if frame is None or col not in frame.columns:
            continue

        def run(ctx, table=table, col=col):
            dates = ctx.table(table)[col]
            before = dates[dates < ctx.p.end]
            if before.empty:
                return None
            last = before.max()
            lag = int((ctx.p.end - last).days)
            rows = pd.DataFrame({"table": [table], "last_date": [last], "days_old_at_period_end": [lag]})
            return _Outcome(rows, pd.Series([lag > ctx.config.freshness_days]), table_rows=False)

        checks.append(_Check(f"{table}.{col}:fresh", "timeliness", table, col,
                             f"the newest {table} row is at most freshness_days old at the period end",
                             run, table in CRM_TABLES))
    return checks


_BUILDERS = {
    "completeness": _completeness_checks,
    "validity": _validity_checks,
    "consistency": _consistency_checks,
    "uniqueness": _uniqueness_checks,
    "integrity": _integrity_checks,
    "timeliness": _timeliness_checks,
}


def _checks(data, dimensions: Iterable[str] = DIMENSIONS) -> list[_Check]:
    out = []
    for d in dimensions:
        if d not in _BUILDERS:
            raise ValueError(f"unknown data-quality dimension {d!r}; expected one of {DIMENSIONS}")
        out += _BUILDERS[d](data)
    return out


@dataclass
class _Run:
    """The outcome of every applicable check for one period (shared by the derived tables)."""

    p: Period
    ctx: _Ctx
    results: list

    def __post_init__(self) -> None:
        self.by_id = {c.id: (c, o) for c, o in self.results}
        rows = []
        for check, out in self.results:
            checked = len(out.rows)
            failed = int(out.failed.sum())
            rows.append({"check": check.id, "dimension": check.dimension, "table": check.table,
                         "column": check.column, "description": check.description, "crm": check.crm,
                         "checked": checked, "failed": failed, "passed": checked - failed,
                         "value": (checked - failed) / checked})
        self.checks = pd.DataFrame(rows, columns=CHECK_COLUMNS)


def _run(data, period, config, policy, dimensions=DIMENSIONS) -> _Run:
    p = as_period(period)
    ctx = _Ctx(data, p, config, get_policy(policy))
    results = []
    for check in _checks(data, dimensions):
        outcome = check.run(ctx)
        if outcome is None or len(outcome.rows) == 0:
            continue
        results.append((check, outcome))
    return _Run(p, ctx, results)


def _failing(check: _Check, out: _Outcome) -> pd.DataFrame:
    rows = _with_detail(out.rows.loc[out.failed.to_numpy()], out.detail)
    if out.table_rows:
        rows.insert(0, "row", [int(i) + 1 if isinstance(i, (int, np.integer)) else i for i in rows.index])
    return rows.reset_index(drop=True)


def _unknown_check(data, check: str) -> UnknownCheckError:
    import difflib

    ids = [c.id for c in _checks(data)]
    close = difflib.get_close_matches(check, ids, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return UnknownCheckError(f"unknown data-quality check {check!r} for this dataset{hint} "
                             f"(see rk.dq_checks(data, period)['check'])")


def _examples(run: _Run, data, check: str, columns, n, sort_by, ascending) -> pd.DataFrame:
    if check in run.by_id:
        rows = _failing(*run.by_id[check])
    elif check in {c.id for c in _checks(data)}:  # applies, but nothing in scope this period
        rows = pd.DataFrame()
    else:
        table = check.split(".", 1)[0]
        why = f"table {table} is absent" if getattr(data, table, None) is None else "a column it needs is absent"
        return pd.DataFrame({"note": [f"check {check} does not apply to this dataset: {why}"]})
    if sort_by is not None and sort_by in rows.columns:
        rows = rows.sort_values(sort_by, ascending=ascending, kind="stable", na_position="last")
    if columns is not None:
        rows = rows[[c for c in columns if c in rows.columns]]
    return rows.head(n).reset_index(drop=True)


def _score(checks: pd.DataFrame, weights: Mapping[str, float]) -> tuple[float, dict]:
    crm = checks[checks["crm"].astype(bool)]
    parts = {}
    for d in DIMENSIONS:
        sub = crm[crm["dimension"] == d]
        if len(sub):
            parts[d] = sub["passed"].sum() / sub["checked"].sum()
    total_w = sum(weights.get(d, 0.0) for d in parts)
    if not parts or total_w == 0:
        return float("nan"), parts
    return 100.0 * sum(weights.get(d, 0.0) * v for d, v in parts.items()) / total_w, parts


def _check_weights(weights: Mapping[str, float]) -> None:
    unknown = sorted(set(weights) - set(DIMENSIONS))
    if unknown or any(w < 0 for w in weights.values()):
        raise ValueError(f"crm_quality_score: weights must map {DIMENSIONS} to non-negative numbers, "
                         f"got {dict(weights)!r}")


def _score_frame(checks: pd.DataFrame, weights) -> pd.DataFrame:
    score, parts = _score(checks, weights)
    row = {"value": score, "checks": int(checks["crm"].astype(bool).sum())}
    row.update({d: parts.get(d, np.nan) for d in DIMENSIONS})
    return pd.DataFrame([row])


def _summary_frame(checks: pd.DataFrame, weights) -> pd.DataFrame:
    _, parts = _score(checks, weights)
    total_w = sum(weights.get(d, 0.0) for d in parts) or np.nan
    rows = []
    for d in DIMENSIONS:
        sub = checks[checks["dimension"] == d]
        rows.append({"dimension": d, "checks": len(sub), "failed_rows": int(sub["failed"].sum()),
                     "all_tables": sub["passed"].sum() / sub["checked"].sum() if len(sub) else np.nan,
                     "crm": parts.get(d, np.nan), "weight": weights.get(d, 0.0),
                     "contribution": 100 * weights.get(d, 0.0) * parts[d] / total_w if d in parts else np.nan})
    return pd.DataFrame(rows)


def _scorecard_frame(checks: pd.DataFrame) -> pd.DataFrame:
    if checks.empty:
        return pd.DataFrame(columns=["table", *DIMENSIONS, "failed_rows"])
    g = checks.groupby(["table", "dimension"]).agg(passed=("passed", "sum"), checked=("checked", "sum"))
    wide = (g["passed"] / g["checked"]).unstack("dimension").reindex(columns=list(DIMENSIONS))
    order = [t for t in TABLES if t in wide.index]
    wide = wide.reindex(order)
    wide["failed_rows"] = checks.groupby("table")["failed"].sum().reindex(order).astype(int)
    wide.columns.name = None
    return wide.reset_index()


def _trend_rows(p: Period, checks: pd.DataFrame, weights) -> list[dict]:
    rows = []
    for d in DIMENSIONS:
        sub = checks[checks["dimension"] == d]
        num, den = float(sub["passed"].sum()), float(sub["checked"].sum())
        rows.append({"period": str(p), "dimension": d, "numerator": num, "denominator": den,
                     "value": num / den if den else np.nan})
    score, _ = _score(checks, weights)
    rows.append({"period": str(p), "dimension": "crm_quality_score", "numerator": np.nan,
                 "denominator": np.nan, "value": score / 100})
    return rows


def _worst_frame(checks: pd.DataFrame, n: int) -> pd.DataFrame:
    bad = checks[checks["failed"] > 0]
    bad = bad.sort_values(["value", "failed", "check"], ascending=[True, False, True], kind="stable")
    return bad.head(n)[["check", "dimension", "description", "checked", "failed", "value"]].reset_index(drop=True)


def _offenders_frame(run: _Run, by: str, n: int) -> pd.DataFrame:
    parts = []
    for check, out in run.results:
        if by not in out.rows.columns or not out.failed.any():
            continue
        rows = out.rows.loc[out.failed.to_numpy()]
        table = check.table if out.table_rows else check.id
        parts.append(pd.DataFrame({by: rows[by].astype(object).where(rows[by].notna(), "(missing)").to_numpy(),
                                   "check": check.id,
                                   "record": [f"{table}:{k}" for k in rows.index]}))
    if not parts:
        return pd.DataFrame(columns=[by, "failures", "records", "checks", "worst_check"])
    long = pd.concat(parts, ignore_index=True)
    g = long.groupby(by).agg(failures=("check", "size"), records=("record", "nunique"),
                             checks=("check", "nunique"))
    worst = long.groupby([by, "check"]).size().reset_index(name="k").sort_values(
        [by, "k", "check"], ascending=[True, False, True]).drop_duplicates(by).set_index(by)["check"]
    g["worst_check"] = worst
    return g.sort_values(["failures", "records"], ascending=False, kind="stable").head(n).reset_index()


def _costs_frame(run: _Run) -> pd.DataFrame:
    ctx = run.ctx
    mrr_end = _mrr_at_end(ctx)
    rows = []

    def add(check_id, what, value_fn, unit="currency"):
        if check_id not in run.by_id:
            return
        _, out = run.by_id[check_id]
        failing = _with_detail(out.rows.loc[out.failed.to_numpy()], out.detail)
        rows.append({"check": check_id, "what": what, "failed": len(failing),
                     "cost": float(value_fn(failing)) if len(failing) else 0.0, "unit": unit})

    add("subscriptions.customer_id:paying_customer_in_crm",
        "ARR of paying customers missing from the CRM",
        lambda f: 12 * f["mrr_period_end"].sum())
    add("opportunities.customer_id:won_deal_has_subscription",
        "bookings of won new-business deals without a matching subscription",
        lambda f: _reporting(ctx, f, "amount", "close_date", "opportunities").sum())
    add("opportunities.amount:won_deal_matches_billing",
        "ARR disagreement between CRM amount and 12 × first MRR",
        lambda f: f["difference"].abs().sum())
    add("opportunities.close_date:not_stale", "open pipeline past its close date",
        lambda f: _reporting(ctx, f.assign(_d=ctx.p.last_month), "amount", "_d", "opportunities").sum())
    add("opportunities.amount:not_blank", "open or recent opportunities without an amount",
        lambda f: len(f), unit="count")
    add("customers.name:likely_duplicate", "ARR on likely-duplicate accounts",
        lambda f: 12 * f["customer_id"].map(mrr_end).fillna(0).sum())
    add("customers.industry:not_blank", "ARR of customers without an industry (segmentation blind spot)",
        lambda f: 12 * f["customer_id"].map(mrr_end).fillna(0).sum())
    add("leads.channel:not_blank", "leads that no channel can be credited for (CAC by channel)",
        lambda f: len(f), unit="count")
    return pd.DataFrame(rows, columns=["check", "what", "failed", "cost", "unit"])


# ---------------------------------------------------------------------- public API
def dq_checks(data, period: PeriodLike, *, dimensions: Iterable[str] = DIMENSIONS,
              config: QualityConfig = DEFAULT_QUALITY,
              policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Every data-quality check that applies to ``data`` in ``period``, with its pass rate.

    value = passed ÷ checked, where ``checked`` is the number of rows (cells for completeness,
    one unit per table for freshness) in the check's scope (see the module docstring). Checks with
    nothing in scope are left out.

    Parameters
    ----------
    data : RevOpsData
    period : Period or str
    dimensions : iterable of str
        Subset of :data:`DIMENSIONS`.
    config : QualityConfig
        Thresholds (window days, amount tolerance, inactivity and freshness days).
    policy : MetricPolicy
        Reads ``reporting_currency``, ``fx_mode`` and ``fx_fixed_month`` (CRM ↔ billing amounts).

    Returns
    -------
    DataFrame
        Columns ``check, dimension, table, column, description, crm, checked, failed, passed,
        value``; ``check`` is the id to pass to :func:`dq_failing_rows`.
    """
    return _run(data, period, config, policy, dimensions).checks


def dq_failing_rows(data, period: PeriodLike, check: str, *, config: QualityConfig = DEFAULT_QUALITY,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The rows that fail ``check`` in ``period``.

    Returns the failing rows with their table's columns (or the derived columns of the check, e.g.
    ``customer_id, name, mrr_period_end`` for ``paying_customer_in_crm``), preceded by ``row`` —
    the 1-based data row in the table, as in schema messages, where the row is a table row — and
    followed by the check's explanation columns (``reason``, ``duplicate_of``, ``days_past_close``
    ...). Raises :class:`UnknownCheckError` naming close matches when ``check`` does not apply.

    Examples
    --------
    >>> import revops_kit as rk
    >>> rows = dq_failing_rows(rk.load_sample(), "2025-Q4", "customers.name:likely_duplicate")
    >>> {"customer_id", "duplicate_of", "matched_on"} <= set(rows.columns)
    True
    """
    checks = {c.id: c for c in _checks(data)}
    if check not in checks:
        raise _unknown_check(data, check)
    ctx = _Ctx(data, as_period(period), config, get_policy(policy))
    out = checks[check].run(ctx)
    if out is None:
        return pd.DataFrame()
    return _failing(checks[check], out)


def dq_examples(data, period: PeriodLike, check: str, *, columns: Iterable[str] | None = None,
                n: int = 20, sort_by: str | None = None, ascending: bool = False,
                config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Up to ``n`` failing rows of ``check`` for display: the ``columns`` that exist (all when
    ``None``), sorted by ``sort_by`` when given. A check that does not apply to the dataset gives
    one row with a ``note`` saying so instead of raising.
    """
    dimension = check_dimension(data, check)
    run = _run(data, period, config, policy, [dimension] if dimension else ())
    return _examples(run, data, check, columns, n, sort_by, ascending)


def check_dimension(data, check: str) -> str | None:
    """The dimension of check ``check`` (``None`` when it does not apply to ``data``)."""
    return next((c.dimension for c in _checks(data) if c.id == check), None)


def _with_detail(rows: pd.DataFrame, detail: pd.DataFrame | None) -> pd.DataFrame:
    """``rows`` with the check's explanation columns appended (clashing names get ``_check``)."""
    if detail is None:
        return rows.copy()
    extra = detail.loc[rows.index]
    extra = extra.rename(columns={c: f"{c}_check" for c in extra.columns if c in rows.columns})
    return pd.concat([rows, extra], axis=1)


def _aggregate(checks: pd.DataFrame, level: str) -> pd.DataFrame:
    keys = {"column": ["table", "column"], "table": ["table"], "dataset": []}
    if level not in keys:
        raise ValueError(f"level must be 'column', 'table' or 'dataset', got {level!r}")
    by = keys[level]
    if checks.empty:
        cols = by + ["checks", "numerator", "denominator", "failed", "value"]
        return pd.DataFrame(columns=cols)
    if by:
        g = checks.groupby(by, sort=True).agg(checks=("check", "count"), numerator=("passed", "sum"),
                                              denominator=("checked", "sum"), failed=("failed", "sum"))
        g = g.reset_index()
    else:
        g = pd.DataFrame({"checks": [len(checks)], "numerator": [checks["passed"].sum()],
                          "denominator": [checks["checked"].sum()], "failed": [checks["failed"].sum()]})
    g[["numerator", "denominator", "failed"]] = g[["numerator", "denominator", "failed"]].astype("float64")
    g["value"] = g["numerator"] / g["denominator"]
    return g


def _dimension_frame(dimension, data, period, level, config, policy) -> pd.DataFrame:
    checks = dq_checks(data, period, dimensions=[dimension], config=config, policy=policy)
    return _aggregate(checks, level)


_DIM_PARAMS = """
    Parameters
    ----------
    data : RevOpsData
    period : Period or str
    level : {"column", "table", "dataset"}
        One row per table and column (default), per table, or one row for the dataset.
    config : QualityConfig
        Thresholds of the checks.
    policy : MetricPolicy
        Reads the reporting-currency fields only (CRM ↔ billing amounts).

    Returns
    -------
    DataFrame
        ``table`` and ``column`` (by level), ``checks``, ``numerator`` (passed), ``denominator``
        (checked), ``failed`` and ``value`` (a fraction).
"""


def dq_completeness(data, period: PeriodLike, *, level: str = "column",
                    config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("completeness", data, period, level, config, policy)


def dq_validity(data, period: PeriodLike, *, level: str = "column",
                config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("validity", data, period, level, config, policy)


def dq_consistency(data, period: PeriodLike, *, level: str = "column",
                   config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("consistency", data, period, level, config, policy)


def dq_uniqueness(data, period: PeriodLike, *, level: str = "column",
                  config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("uniqueness", data, period, level, config, policy)


def dq_integrity(data, period: PeriodLike, *, level: str = "column",
                 config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("integrity", data, period, level, config, policy)


def dq_timeliness(data, period: PeriodLike, *, level: str = "column",
                  config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    return _dimension_frame("timeliness", data, period, level, config, policy)


dq_completeness.__doc__ = """Data completeness: share of expected cells that are filled.

    value = Σ filled ÷ Σ expected cells, over the rows in scope of the period and the columns that
    should be filled (customers: name, domain, segment, region, country, industry, acquisition
    channel, owner, created_at; opportunities: customer_id, amount, close_date, owner, type,
    source, probability, forecast_category; leads: channel; ...; only columns the table has).
""" + _DIM_PARAMS
dq_validity.__doc__ = """Data validity: share of present values inside their domain.

    value = Σ valid ÷ Σ checked values: the schema's allowed values and bounds, ISO 4217 codes,
    period labels, dates in order (end after start, paid after issued, MQL after created ...),
    well-formed web domains, won amounts > 0.
""" + _DIM_PARAMS
dq_consistency.__doc__ = """Data consistency: share of rows whose facts agree.

    value = Σ consistent ÷ Σ checked rows: stage name vs is_won/is_closed, probability and
    forecast category vs outcome, latest history stage vs current stage, non-overlapping periods
    of a product line, and the CRM ↔ billing checks (won new-business deal has a subscription
    starting within ``config.window_days`` of its close date; its amount is within
    ``config.tolerance`` of 12 × first MRR; every paying customer has an account and an opportunity).
""" + _DIM_PARAMS
dq_uniqueness.__doc__ = """Data uniqueness: share of rows that are not duplicates.

    value = Σ unique ÷ Σ checked rows: duplicated keys of every table, and likely-duplicate
    accounts (same normalised name or web domain as an older account, see
    :func:`likely_duplicate_accounts`).
""" + _DIM_PARAMS
dq_integrity.__doc__ = """Data integrity: share of references that resolve.

    value = Σ resolved ÷ Σ checked references: ids that must exist in their parent table (the
    schema's ``*_exists`` checks), won opportunities linked to an account, opportunities with
    stage history, converted leads linked to a customer.
""" + _DIM_PARAMS
dq_timeliness.__doc__ = """Data timeliness: share of records that are up to date at the period end.

    value = Σ timely ÷ Σ checked: open opportunities at the period end whose close date has not
    passed and that changed within ``config.inactivity_days``, and tables whose newest row is at
    most ``config.freshness_days`` old at the period end (one unit per table).
""" + _DIM_PARAMS


def crm_quality_score(data, period: PeriodLike, *, weights: Mapping[str, float] = DQ_WEIGHTS,
                      config: QualityConfig = DEFAULT_QUALITY,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """CRM quality score, 0–100.

    score = 100 × Σ_d w_d · S_d ÷ Σ_d w_d over the dimensions with at least one CRM check, where
    S_d = Σ passed ÷ Σ checked over the CRM checks of dimension d (checks on customers,
    opportunities, opportunity_history and leads, plus the CRM ↔ billing checks), and w_d are
    ``weights`` (default :data:`DQ_WEIGHTS`: completeness 0.25, consistency 0.25, validity 0.15,
    uniqueness 0.15, integrity 0.10, timeliness 0.10).

    Returns
    -------
    DataFrame
        One row: ``value`` (the score), ``checks`` (CRM checks run), and one column per dimension
        holding S_d (a fraction; NaN when the dimension has no CRM check).

    Examples
    --------
    >>> import revops_kit as rk
    >>> 0 <= crm_quality_score(rk.load_sample(), "2025-Q4")["value"].item() <= 100
    True
    """
    _check_weights(weights)
    return _score_frame(dq_checks(data, period, config=config, policy=policy), weights)


def dq_summary(data, period: PeriodLike, *, weights: Mapping[str, float] = DQ_WEIGHTS,
               config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """One row per dimension: its value over all tables and over the CRM checks, and its weight
    and contribution (in score points) to :func:`crm_quality_score`.

    Columns: ``dimension, checks, failed_rows, all_tables, crm, weight, contribution``. The
    contributions add up to the score.
    """
    _check_weights(weights)
    return _summary_frame(dq_checks(data, period, config=config, policy=policy), weights)


def dq_scorecard(data, period: PeriodLike, *, config: QualityConfig = DEFAULT_QUALITY,
                 policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Pass rate by table (rows) and dimension (columns); NaN where no check applies.

    Each cell is Σ passed ÷ Σ checked over the dimension's checks on the table; the last column,
    ``failed_rows``, counts failures over all dimensions.
    """
    return _scorecard_frame(dq_checks(data, period, config=config, policy=policy))


def dq_trend(data, periods: Iterable[PeriodLike], *, weights: Mapping[str, float] = DQ_WEIGHTS,
             config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Dimension values and the CRM quality score for each period.

    Returns a long frame: ``period, dimension, numerator, denominator, value``; the dimension
    ``crm_quality_score`` holds the score divided by 100 (so every value is a fraction).
    """
    _check_weights(weights)
    rows = []
    for period in periods:
        p = as_period(period)
        rows += _trend_rows(p, dq_checks(data, p, config=config, policy=policy), weights)
    return pd.DataFrame(rows)


def dq_worst_checks(data, period: PeriodLike, *, n: int = 10, config: QualityConfig = DEFAULT_QUALITY,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The ``n`` failing checks with the lowest pass rate (ties: most failures first)."""
    return _worst_frame(dq_checks(data, period, config=config, policy=policy), n)


def dq_offenders(data, period: PeriodLike, *, by: str = "owner", n: int = 10,
                 config: QualityConfig = DEFAULT_QUALITY, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Who owns the failing rows: failures per value of ``by`` (e.g. the opportunity owner).

    Counts failing rows of every check whose rows carry a ``by`` column; ``records`` is the number
    of distinct failing records (a record failing two checks counts once there), ``checks`` the
    number of distinct checks they fail, ``worst_check`` the check with most failures.
    """
    return _offenders_frame(_run(data, period, config, policy), by, n)


def dq_costs(data, period: PeriodLike, *, config: QualityConfig = DEFAULT_QUALITY,
             policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """What the failures cost: annual money (reporting currency) or records behind each failing check.

    Every amount is annual so that the rows compare: ARR = 12 × period-end MRR, and opportunity
    amounts are annual.

    ==========================================  ==================================================
    check                                       cost
    ==========================================  ==================================================
    paying_customer_in_crm                      ARR of paying customers the CRM lacks
    won_deal_has_subscription                   bookings (amount) of won deals billing never saw
    won_deal_matches_billing                    Σ |amount − 12 × first MRR| (ARR disagreement)
    opportunities.close_date:not_stale          amount of open pipeline past its close date
    opportunities.amount:not_blank              open opportunities without an amount (count)
    customers.name:likely_duplicate             ARR on duplicate accounts
    customers.industry:not_blank                ARR of customers without an industry
    leads.channel:not_blank                     leads no channel can be credited for (count)
    ==========================================  ==================================================

    Columns: ``check, what, failed, cost, unit`` (``currency`` or ``count``), only for checks
    that apply to the dataset.
    """
    return _costs_frame(_run(data, period, config, policy))


# ---------------------------------------------------------------------- catalogue
def _catalog_frame(dimension: str):
    def func(data, period: Period, *, by, policy):
        checks = dq_checks(data, period, dimensions=[dimension], policy=policy)
        tables = _aggregate(checks, "table")
        num, den = float(checks["passed"].sum()), float(checks["checked"].sum())
        value = safe_divide(num, den, what=f"dq_{dimension}", where=f"no {dimension} check applies in {period}")
        total = pd.DataFrame({"table": ["all"], "checks": [len(checks)], "numerator": [num],
                              "denominator": [den], "failed": [den - num], "value": [value]})
        return pd.concat([tables, total], ignore_index=True) if len(tables) else total

    return func


_FORMULAS = {
    "completeness": "Σ filled ÷ Σ expected cells over the expected columns of each table in scope "
                    "(customers: industry, domain, owner ...; opportunities: amount, close_date ...; leads: channel)",
    "validity": "Σ valid ÷ Σ checked values: schema allowed values and bounds, ISO codes, period labels, "
                "date order, web-domain format, won amount > 0",
    "consistency": "Σ consistent ÷ Σ checked rows: stage vs won/closed, probability and forecast category vs "
                   "outcome, history vs current stage, no overlapping subscription periods, won new-business "
                   "deal has a subscription starting within 30 days with 12 × first MRR within 10 % of the "
                   "amount, every paying customer has an account and an opportunity",
    "uniqueness": "Σ unique ÷ Σ checked rows: duplicated keys and likely-duplicate accounts "
                  "(same normalised name or web domain)",
    "integrity": "Σ resolved ÷ Σ checked references: orphan ids, won deal without account, opportunity "
                 "without history, converted lead without customer",
    "timeliness": "Σ timely ÷ Σ checked: open opportunities at period end not past their close date and "
                  "changed within 90 days; tables whose newest row is ≤ 45 days old at period end",
}

_TABLES_FOR = {d: () for d in DIMENSIONS}

for _d in DIMENSIONS:
    register(f"dq_{_d}", label=f"Data {_d}", unit="ratio", good="up", family="quality",
             formula=_FORMULAS[_d] + "; one row per table and table=all", tables=_TABLES_FOR[_d],
             dims=("table",), groupable=False)(_catalog_frame(_d))
del _d


@register("crm_quality_score", label="CRM quality score", unit="score", good="up", family="quality",
          headline=True, groupable=False, tables=(),
          formula="100 × Σ_d w_d·S_d ÷ Σ_d w_d over the six dimensions' CRM checks (customers, "
                  "opportunities, opportunity_history, leads and CRM ↔ billing), weights completeness "
                  "0.25, consistency 0.25, validity 0.15, uniqueness 0.15, integrity 0.10, timeliness 0.10")
def _kpi_crm_quality_score(data, period: Period, *, by, policy):
    out = crm_quality_score(data, period, policy=policy)
    if pd.isna(out["value"].iloc[0]):
        safe_divide(0.0, 0.0, what="crm_quality_score", where=f"no CRM check applies in {period}")
    return out
