"""The one place that says what the application's database role may do (PostgreSQL).

Migrations run as the owner role; web, workers and beat run as an app role that
reads and writes everything except history: it cannot UPDATE, DELETE or TRUNCATE
the audit trail's events and checkpoints, nor any append-only record (a run's
metrics). Used by ``manage.py db_grants`` (compose's migrate service runs it after
every migrate) and by the test that applies the grants to a local PostgreSQL.
"""

from django.apps import apps
from django.db import connections

from audits.models import AppendOnlyModel

__all__ = ["HISTORY_PRIVILEGES", "app_role_grants", "apply_app_role_grants", "history_tables"]

#: What the app role never holds on a history table.
HISTORY_PRIVILEGES = ("UPDATE", "DELETE", "TRUNCATE")


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def history_tables() -> list[str]:
    """Every append-only model's table: the audit events and checkpoints, a run's metrics, any added later."""
    return sorted(m._meta.db_table for m in apps.get_models() if issubclass(m, AppendOnlyModel))


def app_role_grants(role: str, *, using: str = "default") -> list[str]:
    """The SQL that gives ``role`` what the app needs, in order; re-run after every migrate (new tables)."""
    connection = connections[using]
    quoted, database = _quote(connection, role), _quote(connection, connection.settings_dict["NAME"])
    history = ", ".join(_quote(connection, table) for table in history_tables())
    return [
        f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE {', '.join(HISTORY_PRIVILEGES)} ON {history} FROM {quoted}",
    ]


def apply_app_role_grants(role: str, *, password: str | None = None, using: str = "default") -> list[str]:
    """Create the role if it is missing (a login role without any superpower), then grant; returns the SQL run."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RuntimeError("Database roles and grants are PostgreSQL's; this database is " + connection.vendor)
    quoted = _quote(connection, role)
    done: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
            done.append(f"CREATE ROLE {quoted}")
        if password:
            cursor.execute(f"ALTER ROLE {quoted} PASSWORD %s", [password])
            done.append(f"ALTER ROLE {quoted} PASSWORD …")
        for statement in app_role_grants(role, using=using):
            cursor.execute(statement)
            done.append(statement)
    return done
