"""The ledger is append-only, enforced by PostgreSQL: UPDATE and DELETE of journals and entries are
refused (a correction is a reversing journal), and at commit every journal must sum to zero.

PostgreSQL only; on SQLite (make run) the ledger service is the only writer and checks balance itself.
"""

from django.db import migrations

FORWARD = [
    """CREATE OR REPLACE FUNCTION payments_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % refused (post a reversing journal)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER payments_entry_append_only BEFORE UPDATE OR DELETE ON payments_entry
        FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only()""",
    """CREATE TRIGGER payments_journal_append_only BEFORE UPDATE OR DELETE ON payments_journal
        FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only()""",
    """CREATE OR REPLACE FUNCTION payments_journal_balances() RETURNS trigger AS $$
    DECLARE total bigint;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM payments_entry WHERE journal_id = NEW.journal_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'journal % does not balance (sum %)', NEW.journal_id, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE CONSTRAINT TRIGGER payments_entry_balanced AFTER INSERT ON payments_entry
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_journal_balances()""",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS payments_entry_balanced ON payments_entry",
    "DROP FUNCTION IF EXISTS payments_journal_balances()",
    "DROP TRIGGER IF EXISTS payments_journal_append_only ON payments_journal",
    "DROP TRIGGER IF EXISTS payments_entry_append_only ON payments_entry",
    "DROP FUNCTION IF EXISTS payments_ledger_append_only()",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
