from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.catalog import DIRECTIONS, UNITS

ROOT = Path(__file__).resolve().parent.parent


def test_every_entry_is_complete():
    assert {"mrr", "arr", "customers_active"} <= {k.id for k in rk.list_kpis()}
    for k in rk.list_kpis():
        assert k.unit in UNITS and k.good in DIRECTIONS
        assert k.formula and k.label
        # data-quality KPIs measure whatever tables are present; every other KPI names its inputs
        assert k.tables or k.family == "quality", k.id
        assert set(k.tables) <= set(rk.schema.TABLE_NAMES), k.id


def test_unknown_kpi_suggests_close_ids():
    with pytest.raises(rk.UnknownKPIError, match="did you mean mrr"):
        rk.get_kpi("mmr")


def test_long_format_on_tiny_data(tiny_dir):
    data = rk.load(tiny_dir)
    out = rk.compute_kpis(data, "2024-03", ["mrr", "customers_active", "arr"])
    assert list(out.columns) == rk.LONG_COLUMNS
    values = dict(zip(out["kpi"], out["value"]))
    # March 2024: c1 150 USD, c2 1000 EUR at 1.2, c3 50.5 USD
    assert values["mrr"] == pytest.approx(150 + 1200 + 50.5)
    assert values["arr"] == pytest.approx(12 * 1400.5)
    assert values["customers_active"] == 3


def test_grouped_by_customer_column(tiny_dir):
    data = rk.load(tiny_dir)
    out = rk.compute_kpis(data, "2024-03", ["mrr"], by="segment")
    assert dict(zip(out["group"], out["value"])) == {"segment=Enterprise": 1200.0, "segment=SMB": 200.5}


@pytest.mark.filterwarnings("ignore::revops_kit.errors.ZeroDenominatorWarning")
def test_missing_table_named(tiny_dir):
    (tiny_dir / "subscriptions.csv").unlink()
    data = rk.load(tiny_dir)
    with pytest.raises(rk.MissingTableError, match="subscriptions"):
        rk.compute_kpis(data, "2024-03", ["mrr"])
    skipped: list[str] = []
    out = rk.compute_kpis(data, "2024-03", skipped=skipped)
    assert "mrr" not in set(out["kpi"])  # data-quality KPIs still run on the tables present
    assert any(s.startswith("mrr:") for s in skipped)


def test_metrics_doc_is_current():
    doc = ROOT / "docs" / "metrics.md"
    assert doc.read_text(encoding="utf-8") == rk.metrics_markdown(), "docs/metrics.md is stale: run `make docs`"


def test_zero_denominator_gives_nan_and_warning():
    from revops_kit._common import ratio_frame

    frame = pd.DataFrame({"g": ["a", "b"], "n": [1.0, 2.0], "d": [2.0, 0.0]})
    with pytest.warns(rk.ZeroDenominatorWarning, match="demo ratio.*groups b"):
        out = ratio_frame(frame, "n", "d", what="demo ratio", by=["g"])
    assert out["value"].iloc[0] == 0.5 and pd.isna(out["value"].iloc[1])
