"""The contracts of the SQL models (sql/**/<model>.yml): every model has one and the demo
warehouse keeps it; a model breaking its contract stops the build before the swap; the SQL
generated from the registries (crosswalk, mart pivot, check names) matches them."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.warehouse_fixture import demo_warehouse  # noqa: F401
from warehouse.checks import CHECK_FAMILIES
from warehouse.eras import crosswalk_rows
from warehouse.metrics import MART_COLUMNS
from warehouse.stages import build
from warehouse.stages.build import build_inputs, build_warehouse, load_models, render
from warehouse.stages.contracts import ContractError
from warehouse.storage.schemas import DATASETS

pytestmark = pytest.mark.slow  # DuckDB builds of the demo-like warehouse


def built_columns(con, name: str) -> tuple[str, ...]:
    return tuple(c for (c,) in con.execute(
        "select column_name from duckdb_columns() where table_name = ? order by column_index", [name]).fetchall())


def test_every_model_has_a_contract_and_the_demo_warehouse_keeps_it(demo_warehouse):
    models = load_models()
    assert {p.stem for p in build.SQL_DIR.rglob("*.sql")} == set(models)
    assert {p.stem for p in build.SQL_DIR.rglob("*.yml")} == set(models)
    with duckdb.connect(str(demo_warehouse.database), read_only=True) as con:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())
        for name, model in models.items():
            assert built_columns(con, name) == model.contract.columns, name
            assert kinds[name] == {"view": "VIEW", "table": "BASE TABLE"}[model.materialization], name
            assert model.contract.grain and model.contract.key, name


def test_staging_views_keep_the_parquet_columns():
    models = load_models()
    for dataset, (schema, _) in DATASETS.items():
        model = models[f"stg_{dataset}"]
        assert model.contract.columns == tuple(schema.names), dataset
        assert (build.SQL_DIR / "staging" / f"stg_{dataset}.sql").exists()


@pytest.fixture
def sql_copy(tmp_path) -> Path:
    sql_dir = tmp_path / "sql"
    shutil.copytree(build.SQL_DIR, sql_dir)
    return sql_dir


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


BREAKS = {
    "duplicate key": ("marts/dim_report.sql", "select * from final", "select * from final union all (select * from final limit 1)",
                      "dim_report breaks its contract: key (report_id): a key repeats, e.g. report_id='"),
    "NULL key": ("marts/dim_agency.sql", "select * from final",
                 "select * replace (case when agency_id = (select min(agency_id) from final) then null else agency_id end"
                 " as agency_id) from final",
                 "dim_agency breaks its contract: not_null agency_id: 1 NULL value(s), e.g. agency_id=None"),
    "column renamed": ("marts/mart_agency_year.sql", "as grant_rate,", "as grant_ratio,",
                       "mart_agency_year breaks its contract: columns: missing ['grant_rate'], unexpected ['grant_ratio']"),
    "value not accepted": ("marts/fct_check_results.sql", "{{ check_family.requests_carry_over_across_years }}",
                           "'carry_over_check'",
                           "fct_check_results breaks its contract: accepted_prefixes check_name: 'carry_over_check' starts with none of"),
}


@pytest.mark.parametrize("case", BREAKS)
def test_a_model_breaking_its_contract_stops_the_build_before_the_swap(case, sql_copy, demo_warehouse, tmp_path):
    db = tmp_path / "wh.duckdb"
    build_warehouse(demo_warehouse.paths.parsed, db, sql_dir=sql_copy)
    before = db.read_bytes()
    file, old, new, message = BREAKS[case]
    edit(sql_copy / file, old, new)
    with pytest.raises(ContractError) as failure:
        build_warehouse(demo_warehouse.paths.parsed, db, sql_dir=sql_copy)
    assert str(failure.value).startswith(message) and "\n" not in str(failure.value)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".wh.duckdb.building-*"))   # neither the temp file nor its WAL


@pytest.mark.parametrize("change, message", [
    (lambda d: (d / "marts/fct_reviews.yml").unlink(), "fct_reviews: no contract"),
    (lambda d: (d / "marts/fct_reviews.sql").unlink(), "fct_reviews: contract"),
    (lambda d: edit(d / "marts/fct_reviews.yml", "era: eras", "era: epochs"), "fct_reviews: 'epochs' in"),
    (lambda d: edit(d / "marts/fct_reviews.yml", "key: [report_id, proceeding, result]",
                    "key: [report_id, proceeding, outcome]"), "fct_reviews: contract"),
    (lambda d: edit(d / "marts/fct_reviews.yml", "not_null: [report_id,", "not_null: ["),
     "fct_reviews: a table's key is never NULL"),
    (lambda d: edit(d / "marts/fct_check_results.sql", "check_family.requests_carry_over_across_years",
                    "check_family.carry_over"), "fct_check_results: unknown placeholder"),
])
def test_a_missing_or_wrong_contract_fails_at_load(change, message, sql_copy):
    change(sql_copy)
    with pytest.raises(ContractError, match=f"^{message}"):
        load_models(sql_copy)


def test_build_inputs_cover_the_contracts_and_the_registries(sql_copy, demo_warehouse, monkeypatch):
    parsed = demo_warehouse.paths.parsed
    inputs = build_inputs(parsed, load_models(sql_copy))
    assert build_inputs(parsed, load_models(sql_copy)) == inputs
    monkeypatch.setitem(CHECK_FAMILIES, "requests_carry_over_across_years", "requests_carry_over_between_years")
    assert build_inputs(parsed, load_models(sql_copy)) != inputs
    monkeypatch.undo()
    edit(sql_copy / "marts/fct_reviews.yml", "not_null: [", "not_null: [unit, ")
    assert build_inputs(parsed, load_models(sql_copy)) != inputs


def test_generated_sql_follows_the_registries(demo_warehouse):
    models = load_models()
    fed = {row.measure for row in crosswalk_rows()}
    measures = [k.key for k in MART_COLUMNS if k.key in fed]
    assert list(build.mart_measures()) == measures and fed == set(measures)
    with duckdb.connect(str(demo_warehouse.database), read_only=True) as con:
        assert sorted(con.execute("select * from crosswalk_measure").fetchall()) == sorted(map(tuple, crosswalk_rows()))
        mart = built_columns(con, "mart_agency_year")
        assert [c for c in mart if c in fed] == measures
        assert con.execute("select count(*) from fct_check_results where check_name = ?",
                           [CHECK_FAMILIES["requests_carry_over_across_years"]]).fetchone()[0] > 0
    # no hand-synced list left in the SQL: the names come in through placeholders
    raw = {name: m.sql for name, m in models.items()}
    assert not any(f"'{m}'" in raw["mart_agency_year"] for m in measures)
    assert "'requests_carry_over_across_years'" not in raw["fct_check_results"]
    assert "'requests_carry_over_across_years'" in render(raw["fct_check_results"], demo_warehouse.paths.parsed)
    assert models["fct_check_results"].contract.accepted_prefixes["check_name"] == tuple(CHECK_FAMILIES.values())
