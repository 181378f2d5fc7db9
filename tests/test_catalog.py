from __future__ import annotations

import pickle
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


# ---------------------------------------------------------------------- ids resolve (issue 14)
_ID_CALLS = {"compute_kpis": 2, "get_kpi": 0, "kpi_history": 2}


def _literal_ids(tree) -> list[tuple[int, str]]:
    """KPI id strings in code: ids passed to compute_kpis / get_kpi / kpi_history, and string
    tuples or lists assigned to names ending in _HEADLINE, _KPIS or _IDS."""
    import ast

    out = []

    def strings(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [(node.lineno, node.value)]
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [(e.lineno, e.value) for e in node.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return []

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in _ID_CALLS:
                pos = _ID_CALLS[name]
                if len(node.args) > pos:
                    out += strings(node.args[pos])
                for kw in node.keywords:
                    if kw.arg in ("kpis", "kpi_id"):
                        out += strings(kw.value)
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(n.endswith(("_HEADLINE", "_KPIS", "_IDS")) for n in names):
                out += strings(node.value)
    return out


def _code_sources():
    import json

    for path in sorted((ROOT / "revops_kit").rglob("*.py")):
        yield path.relative_to(ROOT), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        yield path.relative_to(ROOT), "\n".join(l for l in code.splitlines() if not l.lstrip().startswith(("%", "!")))


def test_every_kpi_id_in_package_and_notebooks_resolves():
    import ast

    known = set(rk.catalog.kpi_ids())
    seen, bad = 0, []
    for where, src in _code_sources():
        for line, kid in _literal_ids(ast.parse(src)):
            seen += 1
            if kid not in known:
                bad.append(f"{where}:{line}: {kid!r}")
    assert seen > 20  # the scan finds the notebooks' and views' id lists
    assert not bad, "KPI ids that are not in the catalogue:\n" + "\n".join(bad)


def test_sample_targets_name_registered_kpis(sample):
    if sample.targets is None:
        pytest.skip("the sample has no targets table")
    unknown = sorted(set(sample.targets["kpi"]) - set(rk.catalog.kpi_ids()))
    assert not unknown


def test_derived_lists_come_from_the_entries():
    from revops_kit.targets import CUMULATIVE_KPIS

    sums = {k.id for k in rk.list_kpis() if k.aggregation == "sum"}
    assert set(CUMULATIVE_KPIS) == sums
    # the ids the old hand-written list named but the catalogue never had are gone
    assert {"mrr_new", "mrr_expansion", "mrr_churned", "customers_new"} <= sums
    assert not {"new_mrr", "expansion_mrr", "churned_mrr", "leads", "mqls"} & sums
    assert {"mrr", "nrr", "arpa"}.isdisjoint(sums)
    for k in rk.list_kpis():
        assert k.aggregation in rk.catalog.AGGREGATIONS
    assert rk.catalog.section_kpis("revenue")[:3] == ("mrr", "arr", "mrr_net_change")


def test_register_binds_tables_by_parameter_name(tiny_dir):
    from revops_kit.catalog import REGISTRY, register

    calls = {}

    @register("_test_binding", label="t", unit="count", good="up", formula="t", family="test",
              tables=("subscriptions",), params={"k": 3}, value="n")
    def f(subscriptions, period, *, customers=None, history=None, k=0, by=None, policy=None):
        calls.update(subs=subscriptions, customers=customers, history=history, k=k, by=by)
        return pd.DataFrame({"n": [len(subscriptions)], "value": [-1.0], "numerator": [1.0]})

    try:
        data = rk.load(tiny_dir)
        out = rk.get_kpi("_test_binding").compute(data, "2024-03")
        assert calls["subs"] is data.subscriptions and calls["customers"] is data.customers
        assert calls["history"] is data.opportunity_history and calls["k"] == 3
        assert out["value"].item() == len(data.subscriptions) and pd.isna(out["numerator"].item())
    finally:
        REGISTRY.pop("_test_binding")


@pytest.mark.filterwarnings("ignore::revops_kit.errors.ZeroDenominatorWarning")
def test_missing_optional_column_skips_with_reason(tiny_dir):
    data = rk.load(tiny_dir)
    data.subscriptions = data.subscriptions.drop(columns=["committed_end_date"], errors="ignore")
    skipped: list = []
    out = rk.compute_kpis(data, "2024-03", skipped=skipped, skip_errors=True)
    kinds = {s.kpi: s.kind for s in skipped}
    assert kinds.get("revenue_backlog") == "missing_column"
    assert kinds.get("renewal_rate") == "missing_column"
    assert "committed_end_date" in next(s.reason for s in skipped if s.kpi == "renewal_rate")
    needs = {s.kpi: s.needs for s in skipped}
    assert needs["renewal_rate"] == "the column `subscriptions.committed_end_date`"
    # tcv needs opportunities under the default policy (a policy table, not one of its own)
    assert needs["tcv"] == "the table `opportunities`"
    assert needs["marketing_roi"] == "the tables `costs`, `invoices`"
    assert pickle.loads(pickle.dumps(skipped[0])).needs == skipped[0].needs
    assert "mrr" in set(out["kpi"])
    frame = rk.catalog.skipped_frame(out)
    assert set(frame.columns) == {"kpi", "kind", "reason"} and len(frame) == len(skipped)
    # an explicit request for a KPI that cannot be computed still raises without skip_errors=True
    with pytest.raises(rk.catalog.MissingColumnError, match="committed_end_date"):
        rk.compute_kpis(data, "2024-03", ["revenue_backlog"])
