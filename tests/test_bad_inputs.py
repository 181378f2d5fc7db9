"""Every bad input of issue 12, built from the sample in a temporary folder, through the CLI.

Each case asserts the exit code, that no Python traceback is printed, that the message names the
table, column and row (1-based, header excluded — the numbering ``validate`` uses everywhere), and
that ``revops map --out`` writes nothing. Inputs that are not bad but unusual (a decimal-comma
column, day-first dates, a semicolon or cp1252 file ...) must parse right and say so in a note;
``test_accepted_inputs_run_kpis`` then runs ``revops kpis`` on each of them (issue 12, item 3).

The CLI runs in-process (click's CliRunner) on a reduced copy of the sample (80 customers and
their rows) so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from revops_kit.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


# ---------------------------------------------------------------------- the reduced sample
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)


def build_small_sample(folder: Path) -> Path:
    """80 customers of the sample and every row that belongs to them, as the sample writes them."""
    folder.mkdir(parents=True)
    cust = _read("customers").head(80)
    ids = set(cust["customer_id"])
    frames = {"customers": cust}
    for name in ("subscriptions", "invoices", "support_tickets", "nps_responses", "product_usage"):
        f = _read(name)
        frames[name] = f[f["customer_id"].isin(ids)]
    opps = _read("opportunities")
    opps = opps[opps["customer_id"].isin(ids) | ((opps["customer_id"] == "") & (opps.index < 400))]
    frames["opportunities"] = opps
    hist = _read("opportunity_history")
    frames["opportunity_history"] = hist[hist["opportunity_id"].isin(set(opps["opportunity_id"]))]
    leads = _read("leads")
    ok = ((leads["customer_id"] == "") | leads["customer_id"].isin(ids)) & \
        ((leads["opportunity_id"] == "") | leads["opportunity_id"].isin(set(opps["opportunity_id"])))
    frames["leads"] = leads[ok].head(400)
    for name in ("costs", "quotas", "forecast_submissions", "targets", "fx_rates"):
        frames[name] = _read(name)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    return build_small_sample(tmp_path_factory.mktemp("small") / "sample")


@pytest.fixture
def data_dir(small_sample, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(small_sample, target)
    return target


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args):
        res = runner.invoke(main, [str(a) for a in args])
        text = res.output  # stdout and stderr, interleaved (click >= 8.2)
        assert "Traceback" not in text, text
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise AssertionError(f"uncaught {type(res.exception).__name__}: {res.exception}\n{text}")
        return res.exit_code, text

    return invoke


def _lines(folder: Path, table: str) -> list[str]:
    return (folder / f"{table}.csv").read_text(encoding="utf-8").split("\n")


def _write(folder: Path, table: str, lines: list[str]) -> None:
    (folder / f"{table}.csv").write_text("\n".join(lines), encoding="utf-8")


def _set(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set ``column`` of data row ``row`` (1-based, header excluded) to the raw text ``value``."""
    lines = _lines(folder, table)
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    _write(folder, table, lines)


def _frame(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _save(folder: Path, table: str, frame: pd.DataFrame, **kw) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n", **kw)


def _rejected(cli, folder: Path, tmp_path: Path, *parts: str, code: int = 1) -> str:
    """``revops map --out`` fails with ``code``, names every part, and writes nothing (``map``
    loads and validates exactly as ``validate`` does; see test_validate_and_map_say_the_same)."""
    out = tmp_path / "mapped"
    rc, text = cli("map", "--data", folder, "--out", out)
    assert rc == code, text
    for part in parts:
        assert part in text, f"{part!r} not in:\n{text}"
    assert not out.exists() or not any(out.iterdir()), "map wrote files for bad input"
    return text


def test_validate_and_map_say_the_same(cli, data_dir, tmp_path):
    _set(data_dir, "subscriptions", 4, "mrr", "1e308")
    rc, text = cli("validate", "--data", data_dir)
    assert rc == 1
    assert _rejected(cli, data_dir, tmp_path, "subscriptions", "mrr", "4 (1e+308)") == text


def _accepted(cli, folder: Path, *parts: str) -> str:
    rc, text = cli("validate", "--data", folder)
    assert rc == 0, text
    for part in parts:
        assert part in text, f"{part!r} not in:\n{text}"
    return text


def _load(folder: Path):
    import revops_kit as rk

    return rk.load(folder)


# ---------------------------------------------------------------------- silently wrong before
def test_decimal_comma_among_decimal_points_is_an_error(cli, data_dir, tmp_path):
    _set(data_dir, "subscriptions", 3, "mrr", '"1.234,50"')
    text = _rejected(cli, data_dir, tmp_path, "subscriptions", "mrr", "parse_money", "3 ('1.234,50')",
                     "mixes decimal points and decimal commas")
    assert "1.2345" not in text


def test_decimal_comma_column_is_read_as_meant(data_dir):
    subs = _frame(data_dir, "subscriptions")
    subs["mrr"] = subs["mrr"].str.replace(".", ",", regex=False)
    subs.loc[0, "mrr"] = "1.234,50"
    _save(data_dir, "subscriptions", subs)
    data = _load(data_dir)
    assert data.subscriptions.loc[0, "mrr"] == 1234.5
    assert data.subscriptions.loc[1, "mrr"] == float(_frame(data_dir, "subscriptions").loc[1, "mrr"].replace(",", "."))
    assert any("subscriptions.mrr: read with a decimal comma" in n for n in data.notes)


def test_ambiguous_thousands_is_an_error(cli, data_dir, tmp_path):
    _set(data_dir, "subscriptions", 2, "quantity", '"1,500"')  # 1500 or 1.5? the column does not say
    _rejected(cli, data_dir, tmp_path, "subscriptions", "quantity", "parse_number", "2 ('1,500')", "ambiguous")


def test_thousands_in_a_decimal_point_column_are_read(data_dir):
    _set(data_dir, "subscriptions", 2, "mrr", '"1,500.25"')
    data = _load(data_dir)
    assert data.subscriptions.loc[1, "mrr"] == 1500.25
    assert any("subscriptions.mrr" in n and "thousands" in n for n in data.notes)


def test_mixed_day_first_and_iso_dates_use_one_convention(data_dir):
    _set(data_dir, "customers", 1, "created_at", "31/12/2021")
    _set(data_dir, "customers", 2, "created_at", "05/03/2022")
    data = _load(data_dir)
    assert data.customers.loc[0, "created_at"] == pd.Timestamp("2021-12-31")
    assert data.customers.loc[1, "created_at"] == pd.Timestamp("2022-03-05")  # day first, like row 1
    assert any("customers.created_at: read dates as D/M/YYYY" in n and "31/12/2021" in n for n in data.notes)


def test_contradicting_date_conventions_are_an_error(cli, data_dir, tmp_path):
    _set(data_dir, "customers", 1, "created_at", "31/12/2021")
    _set(data_dir, "customers", 2, "created_at", "31/12/2021")
    _set(data_dir, "customers", 4, "created_at", "12/31/2021")
    _rejected(cli, data_dir, tmp_path, "customers", "created_at", "parse_date", "4 ('12/31/2021')", "contradicts")


def test_ambiguous_dates_are_an_error(cli, data_dir, tmp_path):
    _set(data_dir, "customers", 5, "created_at", "05/03/2022")
    _rejected(cli, data_dir, tmp_path, "customers", "created_at", "5 ('05/03/2022')", "ambiguous date")


def test_huge_mrr_is_a_validation_error(cli, data_dir, tmp_path):
    _set(data_dir, "subscriptions", 4, "mrr", "1e308")
    _rejected(cli, data_dir, tmp_path, "subscriptions", "mrr", "finite_and_within_1e15", "4 (1e+308)")


def test_infinite_mrr_names_the_one_based_row(cli, data_dir, tmp_path):
    _set(data_dir, "subscriptions", 6, "mrr", "inf")
    _rejected(cli, data_dir, tmp_path, "subscriptions", "mrr", "finite_and_within_1e15", "6 (inf)")


def test_negative_infinite_invoice_amount(cli, data_dir, tmp_path):
    _set(data_dir, "invoices", 2, "amount", "-Infinity")
    _rejected(cli, data_dir, tmp_path, "invoices", "amount", "finite_and_within_1e15", "2 (-inf)")


def test_absurd_invoice_amount(cli, data_dir, tmp_path):
    _set(data_dir, "invoices", 7, "amount", "20000000000000000")
    _rejected(cli, data_dir, tmp_path, "invoices", "amount", "finite_and_within_1e15", "7 (2e+16)")


def test_duplicate_header_is_named(cli, data_dir, tmp_path):
    lines = _lines(data_dir, "subscriptions")
    lines[0] = lines[0].replace("currency", "mrr")
    _write(data_dir, "subscriptions", lines)
    _rejected(cli, data_dir, tmp_path, "table subscriptions", "subscriptions.csv",
              "duplicate column header(s): 'mrr' in columns 5, 6")


def test_by_a_column_nothing_can_group_by(cli, data_dir):
    rc, text = cli("kpis", "--data", data_dir, "--period", "2025-Q3", "--by", "no_such_column")
    assert rc == 1, text
    assert "no requested KPI can be grouped by 'no_such_column'" in text and "segment" in text


def test_invoice_in_2200_is_a_validation_error(cli, data_dir, tmp_path):
    _set(data_dir, "invoices", 3, "issued_at", "2200-01-04")
    _rejected(cli, data_dir, tmp_path, "invoices", "issued_at", "parse_date", "3 ('2200-01-04')",
              "outside 1900-2100")


def test_far_future_invoice_does_not_move_the_default_period(cli, data_dir):
    _set(data_dir, "invoices", 3, "issued_at", "2090-01-04")
    _set(data_dir, "invoices", 3, "due_at", "2090-02-03")
    _set(data_dir, "invoices", 3, "paid_at", "")
    _set(data_dir, "invoices", 3, "service_start", "")
    _set(data_dir, "invoices", 3, "service_end", "")
    rc, text = cli("kpis", "--data", data_dir, "--kpi", "mrr")
    assert rc == 0, text
    assert "default period 2025-Q4" in text
    assert "invoices row 3 (issued_at 2090-01-04)" in text and "far-future" in text


def test_opportunity_currency_without_fx_rates(cli, data_dir, tmp_path):
    opps = _frame(data_dir, "opportunities")
    opps.loc[4, "currency"] = "JPY"
    _save(data_dir, "opportunities", opps)
    _rejected(cli, data_dir, tmp_path, "opportunities", "currency", "currency_has_fx_rates", "5 ('JPY')")


def test_cost_currency_without_fx_rates(cli, data_dir, tmp_path):
    _set(data_dir, "costs", 9, "currency", "CHF")
    _rejected(cli, data_dir, tmp_path, "costs", "currency", "currency_has_fx_rates", "9 ('CHF')")


def test_invoice_month_without_fx_rate(cli, data_dir, tmp_path):
    fx = _frame(data_dir, "fx_rates")
    inv = _frame(data_dir, "invoices")
    row = int(inv.index[inv["currency"] == "EUR"][0])
    month = inv.loc[row, "issued_at"][:7] + "-01"
    fx = fx[~((fx["currency"] == "EUR") & (fx["month"] == month))]
    _save(data_dir, "fx_rates", fx)
    _rejected(cli, data_dir, tmp_path, "invoices", "issued_at", "fx_rate_for_month", f"{row + 1} ('EUR {month[:7]}')")


# ---------------------------------------------------------------------- tracebacks before
def test_semicolon_separated_file_is_read(data_dir):
    subs = _frame(data_dir, "subscriptions")
    _save(data_dir, "subscriptions", subs, sep=";")
    data = _load(data_dir)
    assert len(data.subscriptions) == len(subs)
    assert any("subscriptions.csv is separated by ';'" in n for n in data.notes)


def test_tab_separated_file_is_read(data_dir):
    _save(data_dir, "customers", _frame(data_dir, "customers"), sep="\t")
    data = _load(data_dir)
    assert data.customers["customer_id"].iloc[0] == "CUS-00001"
    assert any("separated by '\\t'" in n for n in data.notes)


def test_ragged_row_with_an_extra_field(cli, data_dir, tmp_path):
    lines = _lines(data_dir, "subscriptions")
    lines[7] += ",extra"
    _write(data_dir, "subscriptions", lines)
    _rejected(cli, data_dir, tmp_path, "table subscriptions", "subscriptions.csv", "data row 7 has 11 field(s)",
              "header has 10")


def test_ragged_row_with_a_missing_field(cli, data_dir, tmp_path):
    lines = _lines(data_dir, "customers")
    lines[12] = lines[12].rsplit(",", 1)[0]
    _write(data_dir, "customers", lines)
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "data row 12 has 9 field(s)")


def test_latin1_excel_file_is_read_and_said(data_dir):
    cust = _frame(data_dir, "customers")
    cust.loc[0, "name"] = "Müller Maschinenbau – Köln"
    _save(data_dir, "customers", cust, encoding="cp1252")
    data = _load(data_dir)
    assert data.customers.loc[0, "name"] == "Müller Maschinenbau – Köln"
    assert any("read customers.csv as cp1252" in n for n in data.notes)


def test_utf8_bom_header_is_read(data_dir):
    _save(data_dir, "customers", _frame(data_dir, "customers"), encoding="utf-8-sig")
    data = _load(data_dir)
    assert "customer_id" in data.customers.columns


def test_binary_garbage(cli, data_dir, tmp_path):
    (data_dir / "customers.csv").write_bytes(bytes(range(256)) * 40)
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "not a CSV text file", "binary data")


def test_xlsx_saved_under_a_csv_name(cli, data_dir, tmp_path):
    import zipfile

    with zipfile.ZipFile(data_dir / "customers.csv", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "zip archive (Excel .xlsx?)")


def test_utf16_file(cli, data_dir, tmp_path):
    (data_dir / "customers.csv").write_text((data_dir / "customers.csv").read_text(), encoding="utf-16")
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "UTF-16 text")


def test_upper_case_parquet_extension(data_dir):
    cust = _frame(data_dir, "customers")
    (data_dir / "customers.csv").unlink()
    cust.to_parquet(data_dir / "customers.PARQUET", index=False)
    data = _load(data_dir)
    assert len(data.customers) == len(cust) and data.customers["customer_id"].iloc[0] == "CUS-00001"


def test_upper_case_csv_extension(data_dir):
    (data_dir / "customers.csv").rename(data_dir / "customers.CSV")
    assert len(_load(data_dir).customers) == 80


def test_csv_named_parquet(cli, data_dir, tmp_path):
    (data_dir / "customers.csv").rename(data_dir / "customers.parquet")
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.parquet",
              "is named .parquet but holds text (CSV); rename it to .csv")


def test_parquet_named_csv(cli, data_dir, tmp_path):
    cust = _frame(data_dir, "customers")
    cust.to_parquet(data_dir / "customers.csv", index=False)
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "holds a Parquet file",
              "rename it to customers.parquet")


def test_truncated_parquet(cli, data_dir, tmp_path):
    cust = _frame(data_dir, "customers")
    (data_dir / "customers.csv").unlink()
    cust.to_parquet(data_dir / "customers.parquet", index=False)
    blob = (data_dir / "customers.parquet").read_bytes()
    (data_dir / "customers.parquet").write_bytes(blob[: len(blob) // 2])
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.parquet", "truncated Parquet file")


def test_corrupt_parquet_with_both_markers(cli, data_dir, tmp_path):
    (data_dir / "customers.csv").unlink()
    (data_dir / "customers.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 50 + b"PAR1")
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.parquet", "cannot be read as Parquet")


def test_csv_and_parquet_of_one_table(cli, data_dir, tmp_path):
    _frame(data_dir, "customers").to_parquet(data_dir / "customers.parquet", index=False)
    _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "customers.parquet", "keep one")


def test_not_a_duckdb_database(cli, data_dir, tmp_path):
    fake = tmp_path / "warehouse.duckdb"
    fake.write_text("customer_id\nc1\n")
    rc, text = cli("validate", "--data", fake)
    assert rc == 1 and "is not a DuckDB database (it holds text (CSV))" in text, text


@pytest.mark.parametrize("value,row", [("2300-06-01", 4), ("0001-01-01", 5)])
def test_dates_outside_1900_2100(cli, data_dir, tmp_path, value, row):
    _set(data_dir, "subscriptions", row, "start_date", value)
    _rejected(cli, data_dir, tmp_path, "subscriptions", "start_date", f"{row} ('{value}')", "outside 1900-2100")


def test_parquet_timestamp_in_2300(cli, data_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cust = _frame(data_dir, "customers")
    (data_dir / "customers.csv").unlink()
    table = pa.table({"customer_id": cust["customer_id"].tolist(),
                      "created_at": pa.array([pd.Timestamp("2022-01-01").to_pydatetime()] * 79
                                             + [pd.Timestamp("2022-01-01").to_pydatetime().replace(year=2300)],
                                             type=pa.timestamp("us"))})
    pq.write_table(table, data_dir / "customers.parquet")
    _rejected(cli, data_dir, tmp_path, "customers", "created_at", "80 (", "2300")


def test_unreadable_folder(cli, data_dir, tmp_path, monkeypatch):
    original = Path.iterdir

    def deny(self):
        if self == data_dir:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "iterdir", deny)
    rc, text = cli("validate", "--data", data_dir)
    assert rc == 1 and "data folder" in text and "permission denied" in text, text


def test_unreadable_file(cli, data_dir, tmp_path, monkeypatch):
    import builtins

    original = builtins.open
    target = str(data_dir / "invoices.csv")

    def deny(file, *args, **kwargs):
        if str(file) == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return original(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    rc, text = cli("validate", "--data", data_dir)
    assert rc == 1 and "table invoices: file" in text and "invoices.csv" in text and "permission denied" in text, text


def test_symlink_loop_as_a_table_file(cli, data_dir, tmp_path):
    (data_dir / "invoices.csv").unlink()
    (data_dir / "invoices.csv").symlink_to(data_dir / "invoices.csv")
    _rejected(cli, data_dir, tmp_path, "table invoices", "invoices.csv", "symbolic link loop")


def test_symlink_loop_as_data(cli, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    rc, text = cli("validate", "--data", loop)
    assert rc == 1 and "data folder" in text and "symbolic link loop" in text, text


def test_dangling_symlink_as_data(cli, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    rc, text = cli("kpis", "--data", link)
    assert rc == 1 and "symbolic link to" in text and "which does not exist" in text, text


def test_data_is_a_plain_file(cli, tmp_path):
    f = tmp_path / "customers.csv"
    f.write_text("customer_id\nc1\n")
    rc, text = cli("validate", "--data", f)
    assert rc == 1 and "is not a folder of table files" in text, text


def test_out_names_an_existing_file_for_report(cli, data_dir, tmp_path):
    out = tmp_path / "report.txt"
    out.write_text("keep me")
    rc, text = cli("report", "--data", data_dir, "--out", out, "--period", "2025-Q3")
    assert rc == 2 and "is an existing file; --out names a folder" in text, text
    assert out.read_text() == "keep me"


def test_out_names_an_existing_file_for_map(cli, data_dir, tmp_path):
    out = tmp_path / "tables"
    out.write_text("keep me")
    rc, text = cli("map", "--data", data_dir, "--out", out)
    assert rc == 2 and "is an existing file" in text, text
    assert out.read_text() == "keep me"


def test_unterminated_quote_has_its_own_message(cli, data_dir, tmp_path):
    _set(data_dir, "customers", 3, "name", '"Initech, Inc')
    text = _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv", "unterminated", "data row 3")
    assert "customer_exists" not in text  # not reported as orphan ids elsewhere


def test_quote_closed_many_lines_later(cli, data_dir, tmp_path):
    _set(data_dir, "customers", 3, "name", '"Initech')
    _set(data_dir, "customers", 9, "name", 'Hooli"')
    text = _rejected(cli, data_dir, tmp_path, "table customers", "customers.csv",
                     "unterminated quote in data row 3, column 'name'")
    assert "customer_exists" not in text


def test_quoted_newline_is_a_value_not_an_error(data_dir):
    cust = _frame(data_dir, "customers")
    cust.loc[2, "name"] = "Initech\nHQ"
    _save(data_dir, "customers", cust)
    assert _load(data_dir).customers.loc[2, "name"] == "Initech\nHQ"


@pytest.mark.parametrize("period,message", [("2025-13", "month 13 is not in 1-12"),
                                            ("2025-Q0", "quarter 0 is not in 1-4"),
                                            ("last quarter", "invalid period 'last quarter'")])
def test_malformed_period_is_a_usage_error(cli, data_dir, period, message):
    rc, text = cli("kpis", "--data", data_dir, "--period", period)
    assert rc == 2 and message in text, text


def test_period_outside_the_data_is_a_data_error(cli, data_dir):
    rc, text = cli("kpis", "--data", data_dir, "--period", "2031-Q1")
    assert rc == 1 and "outside the data" in text, text


# ---------------------------------------------------------------------- other bad values
def test_empty_file(cli, data_dir, tmp_path):
    (data_dir / "invoices.csv").write_text("")
    _rejected(cli, data_dir, tmp_path, "table invoices", "invoices.csv", "empty (no header row)")


def test_missing_required_column(cli, data_dir, tmp_path):
    _save(data_dir, "invoices", _frame(data_dir, "invoices").drop(columns=["amount"]))
    _rejected(cli, data_dir, tmp_path, "invoices", "amount", "required_column_present")


def test_blank_header(cli, data_dir, tmp_path):
    lines = _lines(data_dir, "quotas")
    lines[0] = lines[0].replace(",team", ",")
    _write(data_dir, "quotas", lines)
    _rejected(cli, data_dir, tmp_path, "table quotas", "quotas.csv", "column without a header (column 4)")


def test_text_in_a_money_column(cli, data_dir, tmp_path):
    _set(data_dir, "invoices", 11, "amount", "fifty")
    _rejected(cli, data_dir, tmp_path, "invoices", "amount", "parse_money", "11 ('fifty')")


def test_negative_amount_in_parentheses(cli, data_dir, tmp_path):
    _set(data_dir, "invoices", 12, "amount", "(300.00)")
    _rejected(cli, data_dir, tmp_path, "invoices", "amount", "greater_than_or_equal_to(0)", "12 (-300")


def test_bad_boolean(cli, data_dir, tmp_path):
    _set(data_dir, "opportunities", 2, "is_won", "maybe")
    _rejected(cli, data_dir, tmp_path, "opportunities", "is_won", "parse_bool", "2 ('maybe')")


def test_impossible_date(cli, data_dir, tmp_path):
    _set(data_dir, "support_tickets", 8, "opened_at", "2024-02-30")
    _rejected(cli, data_dir, tmp_path, "support_tickets", "opened_at", "parse_date", "8 ('2024-02-30')")


def test_fractional_nps_score(cli, data_dir, tmp_path):
    _set(data_dir, "nps_responses", 3, "score", "7.5")
    _rejected(cli, data_dir, tmp_path, "nps_responses", "score", "is_integer", "3 ('7.5')")


def test_unknown_kpi(cli, data_dir):
    rc, text = cli("kpis", "--data", data_dir, "--kpi", "mrrr")
    assert rc == 1 and "unknown KPI id 'mrrr'" in text and "did you mean mrr" in text, text


def test_broken_mapping_yaml(cli, data_dir, tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  customers: [unclosed\n")
    rc, text = cli("validate", "--data", data_dir, "--mapping", bad)
    assert rc == 1 and "not valid YAML" in text, text


def test_unexpected_exception_is_one_line_with_a_debug_hint(cli, data_dir, monkeypatch):
    import revops_kit.io as rkio

    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(rkio, "load", boom)
    rc, text = cli("validate", "--data", data_dir)
    assert rc == 1 and "internal error: ZeroDivisionError: division by zero" in text and "--debug" in text
    res = CliRunner().invoke(main, ["--debug", "validate", "--data", str(data_dir)])
    assert isinstance(res.exception, ZeroDivisionError)  # --debug lets the traceback through


# ---------------------------------------------------------------------- optional means optional
def test_kpis_without_an_optional_column(cli, data_dir):
    _save(data_dir, "subscriptions", _frame(data_dir, "subscriptions").drop(columns=["committed_end_date"]))
    rc, text = cli("kpis", "--data", data_dir, "--period", "2025-Q3", "--format", "json")
    assert rc == 0, text
    payload = json.loads(text[text.index("{"):text.rindex("}") + 1])
    skipped = {s["kpi"]: s for s in payload["not_computed"]}
    assert {"revenue_backlog", "renewal_rate"} <= set(skipped)
    assert skipped["revenue_backlog"]["reason"] == "missing optional column"
    detail = skipped["revenue_backlog"]["detail"]
    assert "committed_end_date" in detail and "subscriptions" in detail
    assert "mrr" in {r["kpi"] for r in payload["kpis"]}
    assert "not computed: revenue_backlog (missing optional column)" in text


def test_kpis_without_a_table_lists_it(cli, data_dir):
    (data_dir / "opportunities.csv").unlink()
    (data_dir / "opportunity_history.csv").unlink()
    _save(data_dir, "leads", _frame(data_dir, "leads").assign(opportunity_id=""))
    rc, text = cli("kpis", "--data", data_dir, "--period", "2025-Q3")
    assert rc == 0, text
    assert "not computed: win_rate (missing table)" in text


# ---------------------------------------------------------------------- validate promises kpis
ACCEPTED = {
    "decimal_comma": test_decimal_comma_column_is_read_as_meant,
    "thousands": test_thousands_in_a_decimal_point_column_are_read,
    "day_first": test_mixed_day_first_and_iso_dates_use_one_convention,
    "semicolon": test_semicolon_separated_file_is_read,
    "tab": test_tab_separated_file_is_read,
    "cp1252": test_latin1_excel_file_is_read_and_said,
    "bom": test_utf8_bom_header_is_read,
    "upper_parquet": test_upper_case_parquet_extension,
    "upper_csv": test_upper_case_csv_extension,
    "quoted_newline": test_quoted_newline_is_a_value_not_an_error,
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_inputs_run_kpis(cli, data_dir, case):
    """Issue 12 item 3: what validate accepts, kpis computes (exit 0, no data error)."""
    ACCEPTED[case](data_dir)
    rc, text = cli("validate", "--data", data_dir)
    assert rc == 0, text
    rc, text = cli("kpis", "--data", data_dir, "--format", "csv")
    assert rc == 0, text
    assert "error" not in text.split("period,kpi", 1)[0]


def test_far_future_and_optional_column_run_kpis(cli, data_dir):
    test_far_future_invoice_does_not_move_the_default_period(cli, data_dir)
    _save(data_dir, "subscriptions", _frame(data_dir, "subscriptions").drop(columns=["committed_end_date"]))
    rc, text = cli("validate", "--data", data_dir)
    assert rc == 0, text
    rc, text = cli("kpis", "--data", data_dir)
    assert rc == 0, text


def _combined_accepted(folder: Path) -> Path:
    """Every accepted oddity at once, each in its own table (one report run covers them all)."""
    build_small_sample(folder)
    test_decimal_comma_column_is_read_as_meant(folder)
    test_mixed_day_first_and_iso_dates_use_one_convention(folder)
    test_latin1_excel_file_is_read_and_said(folder)
    _save(folder, "invoices", _frame(folder, "invoices"), sep=";")
    _save(folder, "subscriptions", _frame(folder, "subscriptions").drop(columns=["committed_end_date"]))
    opps = _frame(folder, "opportunities")
    (folder / "opportunities.csv").unlink()
    opps.to_parquet(folder / "opportunities.PARQUET", index=False)
    _set(folder, "support_tickets", 3, "opened_at", "2090-01-04")
    _set(folder, "support_tickets", 3, "closed_at", "")
    return folder


@pytest.mark.slow
def test_accepted_inputs_run_report(cli, tmp_path):
    """Issue 12 item 3 for the report, on a reduced set of notebooks: what validate accepts, the
    revenue and churn sections (the two that read the most of the data) run on."""
    from revops_kit.report import NOTEBOOK_DIR, run_report

    folder = _combined_accepted(tmp_path / "data")
    rc, text = cli("validate", "--data", folder)
    assert rc == 0, text
    rc, text = cli("kpis", "--data", folder)
    assert rc == 0, text
    out = run_report(None, data=str(folder), out=str(tmp_path / "reports"), jobs=2, progress=False,
                     notebooks=[NOTEBOOK_DIR / "10_revenue.ipynb", NOTEBOOK_DIR / "45_churn.ipynb"])
    assert (out / "kpis.csv").exists()
