"""The migration's table comparison (roles/migrate_sqlite/files/mlflow_migrate.py, compare_tables).

It runs in the MLflow image against the SQLite copy and the loaded PostgreSQL database; here
both sides are SQLite files with the column types MLflow's schema uses, so what is tested is the
reading, the canonical forms and the digest: equal data in any order agrees, and one changed
value, a missing row or a missing column is reported. The PostgreSQL side (booleans, parsed JSON
and bytea as the driver hands them out) is proven by the migration Molecule scenario, whose
verify must agree on every table of a real migration.
"""

import importlib.util
import json
import math
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy  # requirements.txt installs it for these tests

MODULE = Path(__file__).resolve().parents[3] / "roles/migrate_sqlite/files/mlflow_migrate.py"
SPEC = importlib.util.spec_from_file_location("mlflow_migrate", MODULE)
migrate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(migrate)

ROWS = [
    {
        "key": "loss",
        "value": 0.1,
        "step": 0,
        "ts": 1_700_000_000_000,
        "is_nan": False,
        "meta": '{"a": 1, "b": [1, 2]}',
        "blob": b"\x00\x01",
        "day": "2026-11-29",
    },
    {
        "key": "loss",
        "value": 0.0,
        "step": 1,
        "ts": 1_700_000_000_001,
        "is_nan": True,
        "meta": None,
        "blob": None,
        "day": None,
    },
    {
        "key": "acc",
        "value": -math.inf,
        "step": 2,
        "ts": 1_700_000_000_002,
        "is_nan": False,
        "meta": '"text"',
        "blob": b"",
        "day": "2026-12-01",
    },
]


def _database(
    path: Path, rows, columns=("key", "value", "step", "ts", "is_nan", "meta", "blob", "day"), json_text=None
):
    """A SQLite file with one table of MLflow's column types, filled with ``rows`` as given."""
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    types = {
        "key": sqlalchemy.String(250),
        "value": sqlalchemy.Float(precision=53),
        "step": sqlalchemy.BigInteger(),
        "ts": sqlalchemy.BigInteger(),
        "is_nan": sqlalchemy.Boolean(),
        "meta": sqlalchemy.JSON(),
        "blob": sqlalchemy.LargeBinary(),
        "day": sqlalchemy.Date(),
    }
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("create table other (id integer primary key)"))
        conn.execute(sqlalchemy.text("insert into other values (1)"))
        columns_sql = ", ".join(f"{name} {types[name].compile(dialect=engine.dialect)}" for name in columns)
        conn.execute(sqlalchemy.text(f"create table metrics ({columns_sql})"))
        for row in rows:
            values = {name: row[name] for name in columns}
            if json_text and values.get("meta") is not None:
                values["meta"] = json_text(values["meta"])
            placeholders = ", ".join(f":{name}" for name in columns)
            insert = f"insert into metrics ({', '.join(columns)}) values ({placeholders})"  # noqa: S608 (test's own names)
            conn.execute(sqlalchemy.text(insert), values)
    return engine


def _compare(tmp_path, source_rows, target_rows, **target_options):
    """compare_tables of two new files (each call its own pair)."""
    pair = len(list(tmp_path.glob("source-*.db")))
    source = _database(tmp_path / f"source-{pair}.db", source_rows)
    target = _database(tmp_path / f"target-{pair}.db", target_rows, **target_options)
    return migrate.compare_tables(source, target)


def test_equal_rows_in_another_order_agree(tmp_path):
    report = _compare(tmp_path, ROWS, list(reversed(ROWS)))
    assert report["problems"] == []
    assert report["tables"] == {"metrics": {"sqlite": 3, "postgres": 3}, "other": {"sqlite": 1, "postgres": 1}}


@pytest.mark.parametrize(
    "json_text",
    [
        lambda text: json.dumps(json.loads(text), indent=2),  # other spacing (PostgreSQL's json keeps any)
        lambda text: json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")),  # jsonb's order
        lambda text: text.replace('{"a": 1, "b": [1, 2]}', '{"b": [1, 2], "a": 1}'),  # keys in another order
    ],
)
def test_json_is_compared_as_data_not_as_text(tmp_path, json_text):
    assert _compare(tmp_path, ROWS, ROWS, json_text=json_text)["problems"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("value", 0.1000000000000001),  # one ulp away: a double rounded on the way is caught
        ("value", 0.0),
        ("step", 1),
        ("ts", 1_700_000_000_003),
        ("is_nan", True),
        ("meta", '{"a": 2, "b": [1, 2]}'),
        ("blob", b"\x00\x02"),
        ("day", "2026-11-30"),
        ("key", "Loss"),
    ],
)
def test_one_changed_value_is_reported(tmp_path, field, value):
    changed = [dict(ROWS[0], **{field: value}), *ROWS[1:]]
    assert _compare(tmp_path, ROWS, changed)["problems"] == ["metrics: the same number of rows (3), different contents"]


def test_null_and_zero_are_different_values(tmp_path):
    """MLflow stores a NaN metric as 0.0 with is_nan (SQLite turns NaN into NULL)."""
    changed = [ROWS[0], dict(ROWS[1], value=None), ROWS[2]]
    assert _compare(tmp_path, ROWS, changed)["problems"] == ["metrics: the same number of rows (3), different contents"]


def test_rows_twice_in_place_of_others_are_reported(tmp_path):
    """The digest is a sum over rows, not an XOR, in which a pair of equal rows cancels out."""
    source = [ROWS[0], ROWS[0], ROWS[2]]
    assert _compare(tmp_path, source, [ROWS[1], ROWS[1], ROWS[2]])["problems"] == [
        "metrics: the same number of rows (3), different contents"
    ]
    assert _compare(tmp_path, source, [ROWS[0], ROWS[2], ROWS[2]])["problems"] == [
        "metrics: the same number of rows (3), different contents"
    ]


def test_a_missing_row_is_reported_by_count(tmp_path):
    assert _compare(tmp_path, ROWS, ROWS[:2])["problems"] == ["metrics: 3 rows in SQLite, 2 in PostgreSQL"]


def test_a_missing_column_is_reported(tmp_path):
    narrow = ("key", "value", "step", "ts", "is_nan", "meta", "blob")
    assert _compare(tmp_path, ROWS, ROWS, columns=narrow)["problems"] == [
        "metrics: columns ['day'] missing in PostgreSQL"
    ]


def test_a_missing_table_is_reported(tmp_path):
    source = _database(tmp_path / "source.db", ROWS)
    empty = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert migrate.compare_tables(source, empty)["problems"] == [
        "metrics: no such table in PostgreSQL",
        "other: no such table in PostgreSQL",
    ]


def _parent_and_child(path, orphan):
    with sqlite3.connect(path) as conn:
        conn.execute("create table experiments (experiment_id integer primary key, name text)")
        conn.execute(
            "create table runs (run_uuid text primary key,"
            " experiment_id integer references experiments (experiment_id))"
        )
        conn.execute("insert into experiments values (1, 'kept')")
        conn.execute("insert into runs values ('a', 1)")
        if orphan:
            conn.execute("insert into runs values ('b', 7)")
            conn.execute("insert into runs values ('c', 7)")
    return path


def test_rows_that_break_a_foreign_key_are_counted(tmp_path):
    path = _parent_and_child(tmp_path / "mlflow.db", orphan=True)
    assert migrate._sqlite_foreign_key_problems(str(path)) == {"runs -> experiments": 2}


def test_a_database_without_orphans_has_no_foreign_key_problems(tmp_path):
    path = _parent_and_child(tmp_path / "mlflow.db", orphan=False)
    assert migrate._sqlite_foreign_key_problems(str(path)) == {}


def test_preflight_refuses_orphan_rows_before_anything_changes(tmp_path):
    path = _parent_and_child(tmp_path / "mlflow.db", orphan=True)
    with pytest.raises(migrate.MigrationError, match=r"break MLflow's foreign keys.*'runs -> experiments': 2.*Nothing"):
        migrate.preflight(str(path))


def test_a_key_sqlite_cannot_check_is_left_to_postgresql(tmp_path):
    path = tmp_path / "mlflow.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table parent (name text)")  # not unique: SQLite reports a mismatch
        conn.execute("create table child (name text references parent (name))")
        conn.execute("insert into child values ('x')")
    assert migrate._sqlite_foreign_key_problems(str(path)) == {}


def test_artifact_uris_tell_proxied_runs_from_others(tmp_path):
    path = tmp_path / "uris.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table experiments (experiment_id integer, artifact_location text)")
        conn.execute("create table runs (run_uuid text, artifact_uri text)")
        conn.executemany(
            "insert into experiments values (?, ?)",
            [(0, "mlflow-artifacts:/0"), (1, "./mlruns/1")],
        )
        conn.executemany(
            "insert into runs values (?, ?)",
            [("a", "mlflow-artifacts:/0/a/artifacts"), ("b", "mlflow-artifacts:/0/b/artifacts"),
             ("c", "file:///home/me/mlruns/1/c/artifacts")],
        )  # fmt: skip

    found = migrate._artifact_uris(str(path))

    assert found == {
        "proxied_runs": 2,
        "other_runs": 1,
        "other_experiments": 1,
        "other_uris": ["./mlruns/1", "file:///home/me/mlruns/1/c/artifacts"],
    }


# migrate_sqlite_overwrite replaces only a load the migration left unfinished (marked in the
# target): a database in use, or one a migration finished, is refused with or without it. The
# queries behind the mark run against the real PostgreSQL of the migration Molecule scenario.
def test_an_empty_target_takes_the_load_with_or_without_overwrite():
    assert migrate.target_problem(0, unfinished=False, overwrite=False) is None
    assert migrate.target_problem(0, unfinished=True, overwrite=True) is None


def test_an_unfinished_load_is_replaced_only_with_overwrite():
    assert migrate.target_problem(31, unfinished=True, overwrite=True) is None
    problem = migrate.target_problem(31, unfinished=True, overwrite=False)
    assert "left unfinished" in problem and "Re-run with migrate_sqlite_overwrite=true" in problem


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_database_in_use_is_never_replaced(overwrite):
    problem = migrate.target_problem(31, unfinished=False, overwrite=overwrite)

    assert problem.startswith("the target PostgreSQL database already holds 31 table(s) that no unfinished run")
    assert "Nothing was changed" in problem
    if overwrite:
        assert "dump it first (pg_dump -Fc), drop its tables yourself" in problem
    else:
        assert "Point the migration at an empty database" in problem
        assert "migrate_sqlite_overwrite" not in problem
