"""Alembic environment: runs against the engine or connection dailypapers hands it."""

from alembic import context

from dailypapers.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = config.attributes.get("engine")
    if engine is None:
        from dailypapers.config import Settings
        from dailypapers.store.engine import make_engine

        engine = make_engine(Settings())
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
