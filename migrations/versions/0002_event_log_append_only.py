"""event log append-only triggers

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()


_APPEND_ONLY_MESSAGE = "collaboration_event is append-only"


def _create_append_only_triggers() -> None:
    # The event log is the indicators' evidence: refuse UPDATE and DELETE in
    # the database too, for anything that bypasses the ORM.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER collaboration_event_no_{verb.lower()} "
                f"BEFORE {verb} ON collaboration_event "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION collaboration_event_refuse() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER collaboration_event_no_update_delete "
            "BEFORE UPDATE OR DELETE ON collaboration_event "
            "FOR EACH ROW EXECUTE FUNCTION collaboration_event_refuse()"
        )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS collaboration_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS collaboration_event_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS collaboration_event_no_update_delete "
                   "ON collaboration_event")
        op.execute("DROP FUNCTION IF EXISTS collaboration_event_refuse()")



