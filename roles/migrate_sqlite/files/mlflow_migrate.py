# Managed by Ansible (mlops.mlflow.migrate_sqlite): SQLite -> PostgreSQL migration steps.
"""Steps of the SQLite -> PostgreSQL migration that need MLflow, SQLAlchemy or boto3.

Runs inside the MLflow image the mlflow_server role built (same MLflow version as the server),
with the database password and S3 keys mounted as secret files. The PostgreSQL URI is built by
the image's own entrypoint code from those files, never passed on a command line.

  check-target [--overwrite]       the target is reachable, the user may create the reference schema,
                                   and it is empty or (with --overwrite) holds a load this migration
                                   left unfinished
  preflight SQLITE [--overwrite]   integrity_check, foreign keys, revision known to this MLflow, and
                                   check-target
  begin-load, finish-load          mark the target as holding an unfinished load, and take the mark off
  clear-target                     drop the target's tables (a load left unfinished, --overwrite)
  upgrade-sqlite SQLITE            bring the SQLite copy to this MLflow's head revision
  create-schema                    create the PostgreSQL schema with MLflow itself
  reset-sequences                  every serial/identity column's sequence to max + 1
  verify SQLITE RUNS               every row of every table (count, digest), revision, indexes and
                                   constraints (against a fresh schema in REFERENCE_SCHEMA), the RUNS
                                   most recent runs read back by the client
  copy-artifacts DIR               local artifact tree -> bucket under the same relative paths

Each command prints one JSON object on its last line and exits 1 with a message on failure.
"""

import hashlib
import importlib.machinery
import json
import os
import sqlite3
import sys
from pathlib import Path

ENTRYPOINT = "/usr/local/bin/mlflow-entrypoint"
# verify builds a fresh MLflow schema here, in the target database, to compare with (then drops it).
REFERENCE_SCHEMA = "mlflow_schema_reference"
# The mark of a load this migration began and has not finished (an empty schema in the target
# database, beside MLflow's public one): the only data migrate_sqlite_overwrite may replace.
UNFINISHED_SCHEMA = "mlflow_migration_unfinished"


class MigrationError(Exception):
    pass


def _entrypoint():
    loader = importlib.machinery.SourceFileLoader("mlflow_entrypoint", ENTRYPOINT)
    # The image's own entrypoint code builds the URI from the secret files: one place for it.
    return loader.load_module()


def pg_uri() -> str:
    return _entrypoint().backend_uri()


def pg_engine(uri=None):
    import sqlalchemy

    return sqlalchemy.create_engine(uri or pg_uri())


def _known_revisions() -> tuple[set, str]:
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config

    script = ScriptDirectory.from_config(_get_alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}, script.get_current_head()


def _sqlite_revision(path: str) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            return conn.execute("select version_num from alembic_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise MigrationError(f"{path} is not an MLflow database ({exc})") from None


def _sqlite_foreign_key_problems(path: str) -> dict:
    """Rows of the SQLite file that break its declared foreign keys, counted per child and
    parent table (PRAGMA foreign_key_check reads the declarations whether or not SQLite enforces
    them, and MLflow's SQLite databases run without enforcement)."""
    problems: dict = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            for table, _rowid, parent, _key in conn.execute("pragma foreign_key_check"):
                problems[f"{table} -> {parent}"] = problems.get(f"{table} -> {parent}", 0) + 1
        except sqlite3.OperationalError:
            # A declaration SQLite cannot check ("foreign key mismatch"): PostgreSQL checks every
            # row when the keys go back on after the load (add_foreign_keys).
            return {}
    return problems


def preflight(path: str, *flags: str) -> dict:
    if not Path(path).is_file():
        raise MigrationError(f"no SQLite database at {path}")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            check = conn.execute("pragma integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise MigrationError(f"{path} is not a readable SQLite database: {exc}") from None
    if check != [("ok",)]:
        raise MigrationError(f"{path} fails PRAGMA integrity_check: {check[:5]}")
    orphans = _sqlite_foreign_key_problems(path)
    if orphans:
        raise MigrationError(
            f"{path} has rows that break MLflow's foreign keys, which SQLite does not enforce and PostgreSQL "
            f"will (rows per table and the table they point to: {orphans}). Nothing was changed. Delete or "
            "fix those rows in the SQLite file (PRAGMA foreign_key_check lists them), then re-run."
        )
    revision = _sqlite_revision(path)
    known, head = _known_revisions()
    if revision not in known:
        raise MigrationError(
            f"{path} is at schema revision {revision}, which this MLflow (head {head}) does not know: it was "
            "written by a newer MLflow. Raise mlflow_server_version to at least that version, then migrate."
        )
    target = check_target(*flags)
    return {"sqlite_revision": revision, "head": head, **target, **_artifact_uris(path)}


def target_problem(tables: int, unfinished: bool, overwrite: bool) -> str | None:
    """Why the migration may not load into a target holding ``tables`` tables in its public schema,
    or None. ``unfinished``: the target carries the marker of a load this migration began and has
    not finished (UNFINISHED_SCHEMA). Only such a load may be replaced: any other data is a
    database in use, or one a migration finished, which an MLflow server may be running on."""
    if not tables:
        return None
    if unfinished and overwrite:
        return None
    if unfinished:
        return (
            f"the target PostgreSQL database holds the {tables} table(s) of a load an earlier run of this migration "
            "left unfinished. Nothing was changed. Re-run with migrate_sqlite_overwrite=true (its tables are dropped "
            "and everything is loaded again)."
        )
    return (
        f"the target PostgreSQL database already holds {tables} table(s) that no unfinished run of this migration "
        "loaded: a database in use (an MLflow server may run on it) or one a migration finished. Nothing was changed"
        + (
            " (migrate_sqlite_overwrite replaces only a load this migration left unfinished). To replace this "
            "database anyway, dump it first (pg_dump -Fc), drop its tables yourself, then re-run without "
            "migrate_sqlite_overwrite."
            if overwrite
            else ". Point the migration at an empty database."
        )
    )


def check_target(*flags: str) -> dict:
    """The target's checks that need no SQLite file: reachable, the user may create the reference
    schema, and it is empty or holds a load this migration left unfinished (target_problem).
    Run before the MLflow server is stopped, and again in the preflight."""
    import sqlalchemy

    try:
        with pg_engine().connect() as conn:
            tables = (
                conn.execute(
                    sqlalchemy.text("select table_name from information_schema.tables where table_schema = 'public'")
                )
                .scalars()
                .all()
            )
            may_create_schemas = conn.execute(
                sqlalchemy.text("select has_database_privilege(current_database(), 'CREATE')")
            ).scalar()
            unfinished = conn.execute(
                sqlalchemy.text("select exists (select 1 from pg_namespace where nspname = :name)"),
                {"name": UNFINISHED_SCHEMA},
            ).scalar()
    except Exception as exc:  # report any connection failure without the URI
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise MigrationError(f"cannot reach the target PostgreSQL: {detail}") from None
    if not may_create_schemas:
        # Found now, not after the load: verify builds its reference schema in a scratch schema.
        raise MigrationError(
            "the target PostgreSQL user may not create schemas in the target database, and verify compares the "
            f"loaded schema with a fresh MLflow schema it builds in a scratch schema ({REFERENCE_SCHEMA}, dropped "
            "afterwards). Nothing was changed. Grant it (GRANT CREATE ON DATABASE <database> TO <user>; the "
            "database's owner has it unless it was revoked), then re-run."
        )
    problem = target_problem(len(tables), unfinished, "--overwrite" in flags)
    if problem:
        raise MigrationError(problem)
    return {"target_tables": len(tables), "unfinished_load": unfinished}


def begin_load() -> dict:
    """Mark the target as holding a load this migration began (before its first change)."""
    import sqlalchemy

    with pg_engine().begin() as conn:
        conn.execute(sqlalchemy.text(f'create schema if not exists "{UNFINISHED_SCHEMA}"'))
    return {"unfinished_load": True}


def finish_load() -> dict:
    """Take the mark off once the load is verified: from then on the target is MLflow's database,
    which migrate_sqlite_overwrite may no longer replace."""
    import sqlalchemy

    with pg_engine().begin() as conn:
        conn.execute(sqlalchemy.text(f'drop schema if exists "{UNFINISHED_SCHEMA}" cascade'))
    return {"unfinished_load": False}


def _artifact_uris(path: str) -> dict:
    """How the runs and experiments of the SQLite database point at their artifacts.

    The role copies the server's artifact directory into the bucket, which serves the runs whose
    URI is MLflow's artifact proxy (``mlflow-artifacts:/...``). Other URIs (a client's ``./mlruns``,
    ``file:``, a path of a server in direct mode) are migrated as they are: their artifacts stay
    where they point.
    """
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        proxied_runs, other_runs = conn.execute(
            "select count(*) filter (where artifact_uri like 'mlflow-artifacts:%'),"
            " count(*) filter (where artifact_uri not like 'mlflow-artifacts:%') from runs"
        ).fetchone()
        other_experiments = conn.execute(
            "select count(*) from experiments where artifact_location not like 'mlflow-artifacts:%'"
        ).fetchone()[0]
        samples = conn.execute(
            "select * from (select artifact_uri from runs where artifact_uri not like 'mlflow-artifacts:%' limit 3)"
            " union select * from (select artifact_location from experiments"
            " where artifact_location not like 'mlflow-artifacts:%' limit 3)"
        ).fetchall()
    return {
        "proxied_runs": proxied_runs,
        "other_runs": other_runs,
        "other_experiments": other_experiments,
        "other_uris": sorted(row[0] for row in samples),
    }


def clear_target() -> dict:
    """Drop the target's tables: only those of a load this migration left unfinished."""
    import sqlalchemy

    check_target("--overwrite")
    with pg_engine().begin() as conn:
        conn.execute(sqlalchemy.text("drop schema public cascade"))
        conn.execute(sqlalchemy.text("create schema public"))
    return {"cleared": True}


def upgrade_sqlite(path: str) -> dict:
    from mlflow.store.db.utils import _upgrade_db, create_sqlalchemy_engine_with_retry

    _upgrade_db(create_sqlalchemy_engine_with_retry(f"sqlite:///{path}"))
    return {"sqlite_revision": _sqlite_revision(path)}


def create_schema(uri=None) -> dict:
    """MLflow's own schema, as the server creates it in an empty database (base tables, then
    every migration up to head), so every index, constraint and type is MLflow's."""
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables, _upgrade_db, create_sqlalchemy_engine_with_retry

    engine = create_sqlalchemy_engine_with_retry(uri or pg_uri())
    if sqlalchemy.inspect(engine).get_table_names():
        _upgrade_db(engine)
    else:
        _initialize_tables(engine)
    engine.dispose()
    return {"schema": "created"}


FOREIGN_KEYS = """
select c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
  from pg_constraint c
 where c.contype = 'f' and c.connamespace = 'public'::regnamespace
 order by 1, 2
"""
FOREIGN_KEYS_FILE = Path("/work/foreign-keys.json")


def drop_foreign_keys() -> dict:
    """Take MLflow's foreign keys off the target for the load, which fills tables in any order,
    and keep their definitions in the work directory for add_foreign_keys.

    PostgreSQL's other way to load without them, session_replication_role = replica, needs a
    superuser, which the owner of a managed database (RDS, Cloud SQL) is not."""
    import sqlalchemy

    with pg_engine().begin() as conn:
        keys = [list(row) for row in conn.execute(sqlalchemy.text(FOREIGN_KEYS)).all()]
        FOREIGN_KEYS_FILE.write_text(json.dumps(keys), encoding="utf-8")
        for table, name, _definition in keys:
            # Names come from PostgreSQL's own catalog (regclass text is quoted as needed).
            conn.execute(sqlalchemy.text(f'alter table {table} drop constraint "{name}"'))
    return {"foreign_keys_dropped": len(keys)}


def add_foreign_keys() -> dict:
    """Put back the foreign keys drop_foreign_keys took off, as MLflow defined them: PostgreSQL
    checks every loaded row against them, and a row that breaks one fails the migration."""
    import sqlalchemy

    keys = json.loads(FOREIGN_KEYS_FILE.read_text(encoding="utf-8"))
    with pg_engine().begin() as conn:
        for table, name, definition in keys:
            try:
                conn.execute(sqlalchemy.text(f'alter table {table} add constraint "{name}" {definition}'))
            except sqlalchemy.exc.IntegrityError as exc:
                detail = str(exc.orig).strip().splitlines()[0]
                problem = f"{table}: loaded rows break MLflow's foreign key {name} ({definition}): {detail}"
                raise MigrationError(problem) from exc
    FOREIGN_KEYS_FILE.unlink()
    return {"foreign_keys_added": len(keys)}


SEQUENCE_COLUMNS = """
select c.table_name, c.column_name
  from information_schema.columns c
 where c.table_schema = 'public'
   and (c.column_default like 'nextval(%' or c.is_identity = 'YES')
 order by 1, 2
"""


def reset_sequences() -> dict:
    import sqlalchemy

    done = {}
    with pg_engine().begin() as conn:
        for table, column in conn.execute(sqlalchemy.text(SEQUENCE_COLUMNS)).all():
            value = conn.execute(
                sqlalchemy.text(
                    # Names come from PostgreSQL's own catalog, not from input.
                    f'select setval(pg_get_serial_sequence(:tbl, :col), coalesce(max("{column}"), 0) + 1, false) '  # noqa: S608
                    f'from "{table}"'
                ),
                {"tbl": f'public."{table}"', "col": column},
            ).scalar()
            done[f"{table}.{column}"] = value
    return {"sequences": done}


def _pg_schema_objects(conn, schema: str = "public") -> dict:
    """Indexes and constraints of the MLflow tables in one schema, written as they would be in
    any schema: the search path is that schema alone while PostgreSQL prints the definitions
    (so keys and types are not qualified) and index definitions lose their `ON <schema>.`."""
    import sqlalchemy

    conn.execute(sqlalchemy.text("select set_config('search_path', :schema, true)"), {"schema": f'"{schema}"'})
    indexes = conn.execute(
        sqlalchemy.text("select tablename, indexname, indexdef from pg_indexes where schemaname = :schema"),
        {"schema": schema},
    ).all()
    constraints = conn.execute(
        sqlalchemy.text(
            "select cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid) from pg_constraint co "
            "join pg_class cl on cl.oid = co.conrelid join pg_namespace n on n.oid = cl.relnamespace "
            "where n.nspname = :schema"
        ),
        {"schema": schema},
    ).all()
    on_schema = f" ON {schema}."
    return {
        "indexes": sorted((table, name, indexdef.replace(on_schema, " ON ", 1)) for table, name, indexdef in indexes),
        "constraints": sorted(map(tuple, constraints)),
    }


def _reference_schema(uri: str) -> dict:
    """Index and constraint set of a fresh MLflow schema, built by MLflow in a scratch schema of
    the target database (dropped afterwards): the database's owner may create one, where a
    scratch database would need CREATEDB, which a managed database's application user lacks."""
    import sqlalchemy
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    admin = pg_engine(uri)
    drop = sqlalchemy.text(f'drop schema if exists "{REFERENCE_SCHEMA}" cascade')
    try:
        with admin.begin() as conn:
            conn.execute(drop)
            conn.execute(sqlalchemy.text(f'create schema "{REFERENCE_SCHEMA}"'))
    except DBAPIError as exc:
        raise MigrationError(
            f"verify compares the indexes and constraints with a fresh MLflow schema it builds in a scratch "
            f"schema ({REFERENCE_SCHEMA}) of the target database, and could not create it; the database user "
            f"needs CREATE on the database ({str(exc.orig).strip()})"
        ) from None
    try:
        # MLflow creates its tables (and alembic_version) in the first schema of the search path.
        url = make_url(uri)
        options = " ".join(filter(None, [url.query.get("options", ""), f"-csearch_path={REFERENCE_SCHEMA}"]))
        create_schema(url.update_query_dict({"options": options}).render_as_string(hide_password=False))
        with admin.connect() as conn:
            objects = _pg_schema_objects(conn, REFERENCE_SCHEMA)
    finally:
        with admin.begin() as conn:
            conn.execute(drop)
        admin.dispose()
    return objects


ROW_DIGEST_MASK = (1 << 64) - 1


def _plain(value):
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _json(text):
    return json.dumps(json.loads(text), sort_keys=True)


def _readers(pg_columns) -> list:
    """How to read each column so that both drivers agree, by the type PostgreSQL declares (MLflow's
    own schema): SQLite hands out 0/1 and memoryviews where psycopg2 hands out booleans and bytes,
    and JSON is read as its text on both sides, then parsed. NaN equals NaN (its repr); 1 and 1.0 in
    a float column are one value. Each reader: (read as text, convert)."""
    import sqlalchemy

    def reader(kind):
        if isinstance(kind, sqlalchemy.Float):
            return False, lambda value: repr(float(value))
        if isinstance(kind, (sqlalchemy.Boolean, sqlalchemy.Integer)):
            return False, int
        if isinstance(kind, sqlalchemy.JSON):
            return True, _json
        return False, _plain

    return [reader(column.type) for column in pg_columns]


def _table_digest(conn, columns: list, readers: list) -> tuple:
    """Row count and an order-independent digest of every row (the sum of 64-bit BLAKE2b hashes
    of the rows' canonical forms, mod 2**64), streamed: memory does not grow with the table."""
    import sqlalchemy

    count = total = 0
    select = sqlalchemy.select(
        *(
            sqlalchemy.cast(column, sqlalchemy.Text) if as_text else column
            for column, (as_text, _c) in zip(columns, readers, strict=True)
        )
    )
    converts = [(index, convert) for index, (_as_text, convert) in enumerate(readers)]
    for row in conn.execution_options(stream_results=True, yield_per=10000).execute(select):
        form = repr(tuple(None if row[i] is None else convert(row[i]) for i, convert in converts)).encode()
        total = (total + int.from_bytes(hashlib.blake2b(form, digest_size=8).digest(), "big")) & ROW_DIGEST_MASK
        count += 1
    return count, f"{total:016x}"


def compare_tables(sqlite_engine, target_engine) -> dict:
    """Every row of every table of the SQLite file, compared with PostgreSQL's by count and digest,
    each column by its name."""
    import sqlalchemy

    lite_meta, pg_meta = sqlalchemy.MetaData(), sqlalchemy.MetaData()
    lite_meta.reflect(bind=sqlite_engine)
    pg_meta.reflect(bind=target_engine)
    pg_tables = {name.lower(): table for name, table in pg_meta.tables.items()}
    report = {"tables": {}, "problems": []}
    with sqlite_engine.connect() as lite, target_engine.connect() as pg:
        for name, table in sorted(lite_meta.tables.items()):
            if name.startswith("sqlite_"):
                continue
            target = pg_tables.get(name.lower())
            if target is None:
                report["problems"].append(f"{name}: no such table in PostgreSQL")
                continue
            target_columns = {column.name.lower(): column.name for column in target.columns}
            missing = [column.name for column in table.columns if column.name.lower() not in target_columns]
            if missing:
                report["problems"].append(f"{name}: columns {missing} missing in PostgreSQL")
                continue
            pg_columns = [target.c[target_columns[column.name.lower()]] for column in table.columns]
            readers = _readers(pg_columns)
            lite_count, lite_digest = _table_digest(lite, list(table.columns), readers)
            pg_count, pg_digest = _table_digest(pg, pg_columns, readers)
            report["tables"][name] = {"sqlite": lite_count, "postgres": pg_count}
            if pg_count != lite_count:
                report["problems"].append(f"{name}: {lite_count} rows in SQLite, {pg_count} in PostgreSQL")
            elif pg_digest != lite_digest:
                report["problems"].append(f"{name}: the same number of rows ({lite_count}), different contents")
    return report


def _client_snapshot(uri: str, runs: int) -> dict:
    """What the MLflow client reads: every experiment and registered model (up to 1000), and the
    ``runs`` most recent runs in full (params, tags, every metric's history)."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    out = {"experiments": {}, "runs": {}, "models": {}}
    experiments = client.search_experiments(view_type=ViewType.ALL, max_results=50000)
    for exp in experiments:
        out["experiments"][exp.experiment_id] = [exp.name, exp.lifecycle_stage, sorted(exp.tags.items())]
    ids = sorted((exp.experiment_id for exp in experiments), key=lambda i: (len(i), i))
    sample = client.search_runs(ids, run_view_type=ViewType.ALL, max_results=runs) if ids and runs > 0 else []
    for run in sample:
        history = {
            key: [(m.step, m.timestamp, repr(m.value)) for m in client.get_metric_history(run.info.run_id, key)]
            for key in run.data.metrics
        }
        out["runs"][run.info.run_id] = [
            run.info.experiment_id,
            run.info.status,
            run.info.lifecycle_stage,
            run.info.artifact_uri,
            run.info.start_time,
            run.info.end_time,
            sorted(run.data.params.items()),
            sorted(run.data.tags.items()),
            sorted((k, repr(v)) for k, v in run.data.metrics.items()),
            history,
        ]
    out["models"] = _registered_models(client)
    return json.loads(json.dumps(out, default=str))


def model_name_filter(name: str) -> str | None:
    """A search_model_versions filter for the versions of the model ``name``, or None when MLflow's
    filter grammar cannot say it. The grammar takes a string value in single or double quotes and
    only trims them: nothing inside is unescaped (``''`` and ``\\'`` stay as they are), so a name
    can only be quoted with a quote character it does not hold (``bob's model`` in double quotes)."""
    for quote in ("'", '"'):
        if quote not in name:
            return f"name = {quote}{name}{quote}"
    return None


def _all_model_versions(client, filter_string: str | None = None) -> list:
    """Every model version the filter matches, page after page."""
    versions, token = [], None
    while True:
        page = client.search_model_versions(filter_string, max_results=10000, page_token=token)
        versions.extend(page)
        token = page.token
        if not token:
            return versions


def _registered_models(client) -> dict:
    """Every registered model (up to 1000) with its tags, aliases and versions, by name. A name
    with both quote characters cannot be put in a filter: its versions are then found among all
    versions, listed once without a filter."""
    models = client.search_registered_models(max_results=1000)
    unfilterable = {model.name for model in models if model_name_filter(model.name) is None}
    by_name: dict = {}
    if unfilterable:
        for version in _all_model_versions(client):
            by_name.setdefault(version.name, []).append(version)
    out = {}
    for model in models:
        name_filter = model_name_filter(model.name)
        found = by_name.get(model.name, []) if name_filter is None else _all_model_versions(client, name_filter)
        versions = sorted((v.version, v.run_id, v.source, v.current_stage, sorted(v.tags.items())) for v in found)
        out[model.name] = [sorted(model.tags.items()), sorted(model.aliases.items()), versions]
    return out


def verify(path: str, runs: str) -> dict:
    import sqlalchemy

    uri = pg_uri()
    engine = pg_engine(uri)
    lite_engine = sqlalchemy.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    report = compare_tables(lite_engine, engine)
    lite_engine.dispose()
    lite_rev = _sqlite_revision(path)
    with engine.connect() as conn:
        pg_rev = conn.execute(sqlalchemy.text("select version_num from alembic_version")).scalar()
        objects = _pg_schema_objects(conn)
    report["alembic_version"] = {"sqlite": lite_rev, "postgres": pg_rev}
    if lite_rev != pg_rev:
        report["problems"].append(f"alembic_version differs: SQLite {lite_rev}, PostgreSQL {pg_rev}")
    reference = _reference_schema(uri)
    for kind in ("indexes", "constraints"):
        missing = sorted(set(map(tuple, reference[kind])) - set(objects[kind]))
        extra = sorted(set(objects[kind]) - set(map(tuple, reference[kind])))
        report[kind] = {"count": len(objects[kind]), "missing": missing, "extra": extra}
        if missing or extra:
            report["problems"].append(f"{kind} differ from a fresh MLflow schema: missing {missing}, extra {extra}")

    sample = min(int(runs), 50000)  # MLflow's largest page of runs
    before = _client_snapshot(f"sqlite:///{path}", sample)
    after = _client_snapshot(uri, sample)
    for section in ("experiments", "runs", "models"):
        if before[section] != after[section]:
            differing = [
                k for k in set(before[section]) | set(after[section]) if before[section].get(k) != after[section].get(k)
            ]
            report["problems"].append(f"{section} read back differently through the MLflow client: {differing[:5]}")
    report["client"] = {k: len(v) for k, v in after.items()}

    from mlflow import MlflowClient

    # MLflow can write after the load (the sequences were reset): a new experiment, run and metric
    # through the client, then removed for good, as `mlflow gc` removes them (no artifacts), so the
    # team's history holds no trace of the check.
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(f"migration-check-{os.urandom(4).hex()}")
    run = client.create_run(experiment_id)
    client.log_metric(run.info.run_id, "check", 1.0)
    client.delete_experiment(experiment_id)
    store = client._tracking_client.store
    store._hard_delete_run(run.info.run_id)
    store._hard_delete_experiment(experiment_id)
    report["new_experiment_id"] = experiment_id
    engine.dispose()
    if report["problems"]:
        raise MigrationError("verification failed: " + "; ".join(report["problems"]) + "\n" + json.dumps(report))
    return report


def copy_artifacts(root: str) -> dict:
    import boto3

    bucket, _sep, prefix = os.environ["MIGRATE_S3_DESTINATION"].removeprefix("s3://").partition("/")
    ep = _entrypoint()
    keys = {}
    for env, name in (("aws_access_key_id", "mlflow_s3_access_key"), ("aws_secret_access_key", "mlflow_s3_secret_key")):
        value = ep._secret(name)
        if value:
            keys[env] = value
    s3 = boto3.client("s3", endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None, **keys)
    copied = skipped = 0
    base = Path(root)
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        key = "/".join(filter(None, [prefix.strip("/"), path.relative_to(base).as_posix()]))
        try:
            if s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == path.stat().st_size:
                skipped += 1
                continue
        except s3.exceptions.ClientError:
            pass
        s3.upload_file(str(path), bucket, key)
        copied += 1
    return {"copied": copied, "already_there": skipped, "bucket": bucket, "prefix": prefix}


COMMANDS = {
    "check-target": check_target,
    "preflight": preflight,
    "begin-load": begin_load,
    "finish-load": finish_load,
    "clear-target": clear_target,
    "upgrade-sqlite": upgrade_sqlite,
    "create-schema": create_schema,
    "drop-foreign-keys": drop_foreign_keys,
    "add-foreign-keys": add_foreign_keys,
    "reset-sequences": reset_sequences,
    "verify": verify,
    "copy-artifacts": copy_artifacts,
}


def main() -> None:
    command, *args = sys.argv[1:]
    try:
        result = COMMANDS[command](*args)
    except MigrationError as exc:
        print(f"migration: {exc}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
