"""Core statements compiled once and run straight on the DBAPI cursor (the writer's and the
review queue's hot paths).

A statement is still defined once, as SQLAlchemy Core, next to the code that uses it. What
SQLAlchemy does for every `conn.execute(stmt, params)` — look the compiled form up in its
cache, build an execution context, run each parameter through its type's bind processor, wrap
the cursor in a Result — costs ~20 µs of CPU per statement, more than SQLite's own work for a
small INSERT. `FastStatement` does the same steps once per dialect and parameter-key set
(compile, pick the bind and result processors, the Python-side column defaults) and afterwards
only runs the processors and calls the driver:

    _INSERT_X = FastStatement(insert(table).returning(table.c.id))
    new_id = _INSERT_X.scalar(session.connection(), {"a": 1, "created_at": stamp})

Same SQL, same parameter processing (the compiled statement's own processors: UTCDateTime,
JSON, Boolean, LargeBinary), same column defaults, same result processing (e.g. SQLite's
datetime strings back to aware datetimes), and driver errors come out as SQLAlchemy's
exceptions (IntegrityError, OperationalError, ...), so callers and the writer's retry logic see
what they saw before. What it skips: SQLAlchemy's cursor events (`before_cursor_execute`), the
ORM's autoflush (Core `Connection.execute` does not autoflush either: flush first if ORM
changes must be written before), and its statement cache (this one is per instance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPIModule
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_Processor = Callable[[Any], Any] | None


def _bind_processors(compiled: SQLCompiler) -> dict[str, Callable[[Any], Any]]:
    """The compiled statement's bind processor of each parameter that has one."""
    out: dict[str, Callable[[Any], Any]] = {}
    for name, processor in compiled._bind_processors.items():
        if not callable(processor):  # one processor per element: a tuple-valued parameter (tuple_ IN)
            raise NotImplementedError(f"tuple-valued parameter {name} not supported on the fast path")
        out[name] = processor
    return out


class _Plan:
    """One statement compiled for one dialect and one set of parameter keys."""

    __slots__ = ("sql", "positional", "names", "processors", "defaults", "result_processors")

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> None:
        returning = bool(getattr(statement, "_returning", ()))
        # for_executemany: no implicit RETURNING of the primary key (PostgreSQL) where none was asked for.
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=not returning)
        assert isinstance(compiled, SQLCompiler), "a Core statement compiles to SQL"
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.bind_names.values())
        self.names: tuple[str, ...] = tuple(dict.fromkeys(names))
        bind_processors = _bind_processors(compiled)
        self.processors: tuple[tuple[str, _Processor], ...] = tuple(
            (name, bind_processors.get(name)) for name in (names if self.positional else self.names)
        )
        # Python-side column defaults that SQLAlchemy would fill in for an INSERT (scalar or callable).
        defaults: dict[str, Any] = {}
        for column in getattr(compiled, "insert_prefetch", None) or ():
            default = column.default
            if default is None or not (default.is_scalar or default.is_callable):
                raise NotImplementedError(f"column default of {column.key} not supported on the fast path")
            defaults[column.key] = default
        self.defaults = defaults
        self.result_processors: tuple[_Processor, ...] = tuple(
            entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns
        )

    def bind(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.defaults:
            params = dict(params)
            for key, default in self.defaults.items():
                if key not in params:
                    params[key] = default.arg if default.is_scalar else default.arg(None)
        if self.positional:
            return tuple(p(params[name]) if p is not None else params[name] for name, p in self.processors)
        return {name: (p(params[name]) if p is not None else params[name]) for name, p in self.processors}

    def row(self, raw: Sequence[Any] | None) -> tuple[Any, ...] | None:
        if raw is None:
            return None
        return tuple(p(v) if p is not None else v for p, v in zip(self.result_processors, raw))


class FastStatement:
    """A Core statement run on the DBAPI cursor of a SQLAlchemy connection (see the module doc)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[tuple[Any, ...], _Plan] = {}

    def plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
        cache_key = (dialect.name, dialect.driver, dialect.server_version_info, dialect.paramstyle, keys)
        found = self._plans.get(cache_key)
        if found is None:
            found = self._plans[cache_key] = _Plan(self.statement, dialect, keys)
        return found

    def _run(self, conn: Connection, params: Mapping[str, Any], fetch: bool) -> tuple[Any, ...] | None:
        plan = self.plan(conn.dialect, tuple(params))
        bound = plan.bind(params)
        dbapi_conn = conn.connection
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(plan.sql, bound)
            row = cursor.fetchone() if fetch else None
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrap(conn, plan.sql, bound, error, cursor) from error
        finally:
            cursor.close()
        return plan.row(row)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (result types processed), or None."""
        return self._run(conn, params, True)

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the one row (e.g. an INSERT's RETURNING id); raises if there is none."""
        row = self._run(conn, params, True)
        if row is None:
            raise exc.NoResultFound("No row was found when one was required")
        return row[0]

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        self._run(conn, params, False)

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row, in one driver call (rows must share their keys)."""
        if not rows:
            return
        if len(rows) == 1:
            self._run(conn, rows[0], False)
            return
        plan = self.plan(conn.dialect, tuple(rows[0]))
        bound: list[Any] = [plan.bind(row) for row in rows]  # all tuples or all dicts: one plan
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(plan.sql, bound)
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrap(conn, plan.sql, bound, error, cursor) from error
        finally:
            cursor.close()


class FastQuery:
    """A SELECT compiled once per dialect and run on the DBAPI cursor (the review queue's pages).

    The statement's own literal values (filters, IN lists, LIMIT) are compiled in, processed
    once; only the parameters named at run time (e.g. the time and the keyset position) are
    processed on each call. Rows come back as `row_type` (a tuple, or a namedtuple of the
    selected columns) with each column's result processor applied (UTCDateTime: aware datetimes),
    exactly as `conn.execute(statement).all()` would return them. Against that, it skips what
    FastStatement skips (see the module doc) and SQLAlchemy's Result (~80 µs for a page of 50
    rows on SQLite, as much as SQLite's own work)."""

    def __init__(self, statement: ClauseElement, row_type: type = tuple) -> None:
        self.statement = statement
        self.row_type = row_type
        self._plans: dict[tuple[Any, ...], _QueryPlan] = {}

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        dialect = conn.dialect
        key = (dialect.name, dialect.driver, dialect.server_version_info, dialect.paramstyle)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _QueryPlan(self.statement, dialect)
        bound = plan.bind(params)
        cursor = conn.connection.cursor(**plan.cursor_options)
        try:
            cursor.execute(plan.sql, bound)
            raw = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            raise _wrap(conn, plan.sql, bound, error, cursor) from error
        finally:
            cursor.close()
        return plan.rows(raw, self.row_type)


class _QueryPlan:
    __slots__ = ("sql", "positional", "fixed", "slots", "processors", "result_processors", "cursor_options")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert isinstance(compiled, SQLCompiler), "a Core statement compiles to SQL"
        # psycopg: rows in the binary format (the same Python values, ~12% less work for a page of 50)
        self.cursor_options: dict[str, Any] = {"binary": True} if dialect.driver == "psycopg" else {}
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        values = compiled.params  # every bound parameter with the value it was built with
        processors = _bind_processors(compiled)
        self.processors: dict[str, _Processor] = dict(processors)
        names = list(compiled.positiontup or ()) if self.positional else list(dict.fromkeys(values))
        fixed = [processors[n](values[n]) if n in processors else values[n] for n in names]
        self.fixed: list[Any] | dict[str, Any] = fixed if self.positional else dict(zip(names, fixed))
        slots: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            slots.setdefault(name, []).append(i)
        self.slots = slots
        self.result_processors: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, p)
            for i, entry in enumerate(compiled._result_columns)
            if (p := entry.type._cached_result_processor(dialect, None)) is not None
        )

    def bind(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        # Like conn.execute, a parameter the statement does not use is ignored (e.g. a keyset
        # position's deadline for the segment without deadlines).
        processors, slots = self.processors, self.slots
        if self.positional:
            out = list(self.fixed)
            for name, value in params.items():
                if name in slots:
                    p = processors.get(name)
                    value = p(value) if p is not None else value
                    for i in slots[name]:
                        out[i] = value
            return out
        named = dict(self.fixed)
        for name, value in params.items():
            if name in named:
                p = processors.get(name)
                named[name] = p(value) if p is not None else value
        return named

    def rows(self, raw: Sequence[Any], row_type: type) -> list[Any]:
        new, procs = tuple.__new__, self.result_processors
        if not procs:
            return [new(row_type, r) for r in raw]
        out: list[Any] = []
        for r in raw:
            r = list(r)
            for i, p in procs:
                r[i] = p(r[i])
            out.append(new(row_type, r))
        return out


def _wrap(conn: Connection, sql: str, params: Any, error: DBAPIModule.Error, cursor: Any) -> exc.StatementError:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError, ...)."""
    dialect = conn.dialect
    disconnect = dialect.is_disconnect(error, conn.connection.dbapi_connection, cursor)
    wrapped = exc.DBAPIError.instance(
        sql,
        params,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=dialect,
        connection_invalidated=disconnect,
    )
    if disconnect:
        conn.invalidate(wrapped)
    return wrapped


def session_connection(session: Session) -> Connection:
    """The session's connection for a FastQuery, after the flush an ORM query would have done first
    (autoflush): a read through it sees what the same session added or changed before."""
    if session.autoflush:
        session.flush()  # nothing to write: a check of the session's state, no SQL
    return session.connection()


def id_slots(n: int) -> list[Any]:
    """`n` parameters `id0`…`id{n-1}` for `column.in_(id_slots(n))` in a FastQuery: an IN list of a
    page's ids compiled once (an expanding parameter is compiled again on every call)."""
    return [bindparam(f"id{i}") for i in range(n)]


def id_params(ids: Sequence[int], n: int) -> dict[str, int]:
    """The values for `id_slots(n)`: `ids` (at most n, at least one), padded with the last one (IN
    ignores a repeated value)."""
    if not 0 < len(ids) <= n:
        raise ValueError(f"between 1 and {n} ids")
    last = ids[-1]
    return {f"id{i}": ids[i] if i < len(ids) else last for i in range(n)}
