"""Tests of the synthetic sample company (``revops_kit.sample``).

Small and seeded: 300 customers over 2024-01..2025-12 generate in well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revops_kit import sample, schema

KW = dict(n_customers=300, start="2024-01")
SEED = 7


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return sample.generate(SEED, **KW)


def _events(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Classify every date on which a customer's total MRR changes (derived from the rows only)."""
    out = []
    for cid, g in subscriptions.groupby("customer_id", sort=True):
        dates = sorted(set(g["start_date"]) | set(g["end_date"].dropna()))
        prev, churned = 0.0, False
        for d in dates:
            live = g[(g["start_date"] <= d) & (g["end_date"].isna() | (g["end_date"] > d))]
            total = round(float(live["mrr"].sum()), 2)
            if prev == 0 and total > 0:
                out.append((cid, d, "reactivation" if churned else "new"))
            elif prev > 0 and total == 0:
                out.append((cid, d, "churn"))
                churned = True
            elif total > prev:
                out.append((cid, d, "expansion"))
            elif total < prev:
                out.append((cid, d, "contraction"))
            prev = total
    return pd.DataFrame(out, columns=["customer_id", "date", "event"])


def test_same_seed_gives_identical_tables(tables):
    again = sample.generate(SEED, **KW)
    assert list(again) == list(tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name], check_exact=True, obj=name)


def test_other_seed_gives_other_tables(tables):
    other = sample.generate(SEED + 1, **KW)
    assert not other["subscriptions"].equals(tables["subscriptions"])
    assert not other["opportunities"].equals(tables["opportunities"])
    assert not other["customers"]["name"].equals(tables["customers"]["name"])


def test_all_fourteen_tables_with_the_schema_columns(tables):
    assert set(tables) == set(schema.TABLE_NAMES)
    assert len(tables) == 14
    for name, frame in tables.items():
        assert list(frame.columns) == schema.TABLES[name].column_names, name
        assert len(frame) > 0, name


def test_column_types_follow_the_schema(tables):
    for name, frame in tables.items():
        for col in schema.TABLES[name].columns:
            s = frame[col.name]
            if col.kind == "date":
                assert pd.api.types.is_datetime64_any_dtype(s), (name, col.name)
            elif col.kind in ("money", "float"):
                assert pd.api.types.is_float_dtype(s), (name, col.name)
            elif col.kind == "bool":
                assert pd.api.types.is_bool_dtype(s), (name, col.name)
            elif col.kind in ("id", "str", "currency", "period"):
                assert all(isinstance(v, str) for v in s.dropna()), (name, col.name)
            if col.kind == "money":
                vals = s.dropna().to_numpy()
                assert np.allclose(vals, np.round(vals, 2), rtol=0, atol=1e-9), (name, col.name)
    usage = tables["product_usage"]
    assert (usage["month"].dt.day == 1).all()
    assert (tables["costs"]["month"].dt.day == 1).all()


def test_schema_validation_passes(tables):
    schema.validate(tables)  # raises SchemaError listing every failure


def test_every_subscription_event_type_is_present(tables):
    events = _events(tables["subscriptions"])
    counts = events["event"].value_counts()
    for kind in ("new", "expansion", "contraction", "churn", "reactivation"):
        assert counts.get(kind, 0) > 0, kind
    # every customer with subscriptions starts exactly once as new
    assert counts["new"] == tables["subscriptions"]["customer_id"].nunique()


def test_subscription_rows_chain_without_overlap(tables):
    subs = tables["subscriptions"].sort_values(["customer_id", "product", "start_date"])
    nxt = subs.groupby(["customer_id", "product"])["start_date"].shift(-1)
    ended = subs["end_date"]
    assert not (nxt < ended).any()  # no overlapping rows of one product line
    assert (nxt == ended).sum() > 0  # changes end a row and start the next on the same date
    running = subs[subs["end_date"].isna()]
    assert not running.duplicated(["customer_id", "product"]).any()


def test_churners_use_less_and_are_less_happy(tables):
    events = _events(tables["subscriptions"])
    churners = set(events.loc[events["event"] == "churn", "customer_id"])
    assert churners
    usage = tables["product_usage"]
    ratio = (usage["active_users"] / usage["licensed_seats"]).groupby(usage["customer_id"]).mean()
    is_churner = ratio.index.isin(list(churners))
    assert ratio[is_churner].mean() < ratio[~is_churner].mean() - 0.05
    nps = tables["nps_responses"]
    by_churner = nps.groupby(nps["customer_id"].isin(list(churners)))["score"].mean()
    assert by_churner[True] < by_churner[False]
    tickets = tables["support_tickets"]
    months = usage.groupby("customer_id").size()
    per_month = tickets.groupby("customer_id").size().reindex(months.index, fill_value=0) / months
    assert per_month[is_churner].mean() > per_month[~is_churner].mean()


def test_won_new_business_matches_billing(tables):
    opps, subs = tables["opportunities"], tables["subscriptions"]
    won = opps[(opps["type"] == "new_business") & opps["is_won"]]
    assert won["customer_id"].notna().all()
    assert opps.loc[(opps["type"] == "new_business") & ~opps["is_won"], "customer_id"].isna().all()
    first = subs.groupby("customer_id")["start_date"].min()
    gap = (won["customer_id"].map(first) - won["close_date"]).dt.days
    assert gap.between(0, 14).mean() > 0.95  # a few are dirty on purpose
    assert (opps["is_won"] <= opps["is_closed"]).all()


def test_history_ends_in_the_current_state(tables):
    opps, hist = tables["opportunities"], tables["opportunity_history"]
    last = hist.groupby("opportunity_id").tail(1).set_index("opportunity_id")
    current = opps.set_index("opportunity_id").loc[last.index]
    assert (last["stage"] == current["stage"]).all()
    assert hist["changed_at"].max() <= pd.Timestamp("2025-12-31")
    first = hist.groupby("opportunity_id")["changed_at"].min()
    assert (first == opps.set_index("opportunity_id")["created_at"].loc[first.index]).all()


def test_hostile_names_are_kept_verbatim(tables):
    names = set(tables["customers"]["name"])
    assert set(sample.HOSTILE_NAMES) <= names


def test_write_sample_twice_is_byte_identical(tmp_path):
    kw = dict(n_customers=120, start="2025-01")
    counts_a = sample.write_sample(tmp_path / "a", seed=3, **kw)
    counts_b = sample.write_sample(tmp_path / "b", seed=3, **kw)
    assert counts_a == counts_b
    assert set(counts_a) == set(schema.TABLE_NAMES)
    for name, n_rows in counts_a.items():
        a = (tmp_path / "a" / f"{name}.csv").read_bytes()
        b = (tmp_path / "b" / f"{name}.csv").read_bytes()
        assert a == b, name
        assert a.count(b"\n") == n_rows + 1, name  # header + one line per row, "\n" endings
        assert b"\r" not in a, name
        header = a.split(b"\n", 1)[0].decode()
        assert header.split(",") == schema.TABLES[name].column_names
    text = (tmp_path / "a" / "subscriptions.csv").read_text()
    assert "NaT" not in text and "nan" not in text


def test_targets_derive_from_compute_kpis(tables):
    """A rate target is the mean of the four previous quarters of the catalogue's own KPI, nudged
    the good way (``nrr`` +0.005, ``logo_churn_rate`` x0.9); no second formula in the generator."""
    import warnings

    from revops_kit import compute_kpis, from_frames, list_kpis
    from revops_kit.errors import RevOpsWarning

    data = from_frames({k: v for k, v in tables.items() if k != "targets"}, validate=False)
    targets = tables["targets"][tables["targets"]["segment"].isna()].set_index(["kpi", "period"])
    previous = ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RevOpsWarning)
        long = pd.concat([compute_kpis(data, p, ["nrr", "logo_churn_rate", "win_rate"]) for p in previous])
    mean = long.groupby("kpi")["value"].mean()
    assert targets.loc[("nrr", "2025-Q2"), "target"] == pytest.approx(round(mean["nrr"] + 0.005, 4))
    assert targets.loc[("logo_churn_rate", "2025-Q2"), "target"] == pytest.approx(
        round(mean["logo_churn_rate"] * 0.9, 4))
    assert targets.loc[("win_rate", "2025-Q2"), "target"] == pytest.approx(
        round(mean["win_rate"] + 0.02, 4))
    # every KPI with a target is in the catalogue, and every target has an owner
    assert set(tables["targets"]["kpi"]) <= {k.id for k in list_kpis()}
    assert tables["targets"]["owner"].notna().all()


def test_sample_steps_share_one_state_object():
    from revops_kit.sample import simulate
    from revops_kit.sample.state import SampleState

    state = simulate(SEED, 40, "2025-01", "2025-06")
    assert isinstance(state, SampleState)
    for step in ("fx", "customers", "billing", "crm", "leads", "success", "invoices", "costs", "plans"):
        assert getattr(state, step) is not None, step
    assert len(state.customers.ids) == 40
