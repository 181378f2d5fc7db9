"""Mapping YAML features of issue 12 item 5: fill, join, encoding, decimal/thousands, dates, CRM
rules, exclude — and `revops map --out` / `RevOpsData.save` round trips."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

import revops_kit as rk
from revops_kit.adapters.mapping import MappingError, load_mapping
from revops_kit.cli import main

DEALS = """deal,agent,stage,engaged,closed,value,product
D1,Ann,Won,03/01/2017,03/02/2017,"1.200,50",GTX Pro
D2,Bob,Lost,15/01/2017,01/03/2017,0,MG Special
D3,Ann,Engaging,,,,GTX Pro
D4,Cid,Prospecting,20/02/2017,,,Unknown Kit
"""
TEAMS = "sales_agent,manager,regional_office\nAnn,Mia,West\nBob,Mia,East\n"
PRODUCTS = "product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n"

MAPPING = """
source: .
tables:
  opportunities:
    file: deals.csv
    decimal: ","
    columns: {opportunity_id: deal, owner: agent, stage: stage, created_at: engaged, close_date: closed,
              amount: value, team: manager, product: product}
    dates: {created_at: "%d/%m/%Y", close_date: dayfirst}
    join:
      - {file: teams.csv, on: {left: agent, right: sales_agent}}
      - {file: products.csv, on: product, take: [sales_price]}
    fill: {created_at: "2016-10-20"}
    crm:
      stages: {Won: won, Lost: lost, Engaging: open, Prospecting: open}
      lost_amount: unknown
      open_amount_from: sales_price
"""


@pytest.fixture
def crm_dir(tmp_path):
    (tmp_path / "deals.csv").write_text(DEALS, encoding="cp1252")
    (tmp_path / "teams.csv").write_text(TEAMS)
    (tmp_path / "products.csv").write_text(PRODUCTS)
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    return tmp_path


def test_crm_export_with_joins_fill_and_rules(crm_dir):
    data = rk.load(crm_dir / "mapping.yaml")
    o = data.opportunities.set_index("opportunity_id")
    assert o.loc["D1", "amount"] == 1200.5                       # decimal comma set in the mapping
    assert pd.isna(o.loc["D2", "amount"]) and bool(o.loc["D2", "amount_was_zero_lost"])  # lost 0 = unknown
    assert o.loc["D3", "amount"] == 4821.0 and bool(o.loc["D3", "amount_filled"])  # open deal: list price
    assert pd.isna(o.loc["D4", "amount"])                       # no list price for that product: unknown
    assert o.loc["D3", "created_at"] == pd.Timestamp("2016-10-20") and bool(o.loc["D3", "created_at_filled"])
    assert o.loc["D1", "created_at"] == pd.Timestamp("2017-01-03")  # %d/%m/%Y
    assert o.loc["D2", "close_date"] == pd.Timestamp("2017-03-01")  # dayfirst
    assert o.loc["D1", "team"] == "Mia" and pd.isna(o.loc["D4", "team"])  # joined; Cid is not in teams.csv
    assert [bool(o.loc[i, "is_won"]) for i in ["D1", "D2", "D3"]] == [True, False, False]
    assert [bool(o.loc[i, "is_closed"]) for i in ["D1", "D2", "D3"]] == [True, True, False]
    notes = "\n".join(data.notes)
    assert "1 row(s) have a agent not in teams.csv" in notes and "'Cid'" in notes
    assert "filled 1 blank value(s) with '2016-10-20'" in notes
    assert "took it from sales_price" in notes and "lost deal(s) with amount 0 read as unknown" in notes


def test_unmapped_stage_is_an_error(crm_dir):
    (crm_dir / "mapping.yaml").write_text(MAPPING.replace(", Prospecting: open", ""))
    with pytest.raises(MappingError, match=r"stage\(s\) \['Prospecting'\] are not in crm.stages \(data rows \[4\]\)"):
        rk.load(crm_dir / "mapping.yaml")


def test_duplicate_join_key_is_an_error(crm_dir):
    (crm_dir / "teams.csv").write_text(TEAMS + "Ann,Zed,North\n")
    with pytest.raises(MappingError, match=r"has key 'sales_agent' more than once: \['Ann'\]"):
        rk.load(crm_dir / "mapping.yaml")


@pytest.mark.parametrize("spec,message", [
    ({"decimal": ";"}, "decimal must be '.' or ','"),
    ({"decimal": ",", "thousands": ","}, "contradict each other"),
    ({"decimal": {"stage": ","}}, "not number columns"),
    ({"join": {"file": "x.csv"}}, "each join needs 'file' and 'on'"),
    ({"crm": {"stages": {"Won": "victory"}}}, "values must be open, won or lost"),
    ({"crm": {"lost_amount": "maybe"}}, "lost_amount must be 'unknown' or 'zero'"),
    ({"fill": {"colour": "red"}}, r"'fill' names unknown column\(s\) \['colour'\]"),
    ({"exclude": [{"column": "x"}]}, "needs 'column' and one of 'equals'"),
    ({"dates": {"stage": "%Y"}}, "not a date column"),
])
def test_mapping_option_errors(spec, message):
    with pytest.raises(MappingError, match=message):
        load_mapping({"tables": {"opportunities": spec}})


def test_thousands_key_implies_the_decimal(tmp_path):
    (tmp_path / "s.csv").write_text("id,c,start,mrr\ns1,c1,2024-01-01,1.250\n")
    (tmp_path / "m.yaml").write_text("source: .\ntables:\n  subscriptions:\n    file: s.csv\n    thousands: '.'\n"
                                     "    columns: {subscription_id: id, customer_id: c, start_date: start}\n"
                                     "    constants: {end_date: ''}\n")
    assert rk.load(tmp_path / "m.yaml").subscriptions.loc[0, "mrr"] == 1250.0


def test_encoding_key_overrides_detection(tmp_path):
    (tmp_path / "k.csv").write_bytes("id,name\nk1,Gr\u00fcn\n".encode("latin-1"))
    (tmp_path / "m.yaml").write_text("source: .\ntables:\n  customers:\n    file: k.csv\n    encoding: latin-1\n"
                                     "    columns: {customer_id: id}\n")
    data = rk.load(tmp_path / "m.yaml")
    assert data.customers.loc[0, "name"] == "Grün"
    assert not any("cp1252" in n for n in data.notes)  # said by the mapping, not guessed


def test_map_command_writes_canonical_tables(crm_dir, tmp_path):
    out = tmp_path / "canonical"
    res = CliRunner().invoke(main, ["map", "--data", str(crm_dir / "mapping.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "opportunities.csv").exists() and "wrote 1 table(s)" in res.output
    again = rk.load(out)
    pd.testing.assert_frame_equal(again.opportunities[["opportunity_id", "amount", "created_at", "is_won"]],
                                  rk.load(crm_dir / "mapping.yaml").opportunities[
                                      ["opportunity_id", "amount", "created_at", "is_won"]])


def test_save_round_trips_the_sample(sample, tmp_path):
    counts = sample.save(tmp_path / "copy")
    assert counts["subscriptions"] == len(sample.subscriptions)
    again = rk.load(tmp_path / "copy")
    for name, frame in sample.tables().items():
        pd.testing.assert_frame_equal(getattr(again, name), frame, check_dtype=False)
