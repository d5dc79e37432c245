"""No double booking, ever, enforced by PostgreSQL itself.

Among bookings that hold time (requested, awaiting payment, confirmed, disputed), one companion's
[start, hold_until) spans (hold_until = end + buffer) never overlap, and one customer's [start, end)
spans never overlap. The constraint cannot look at the clock: the booking service first expires that
companion's overdue holds inside the same transaction, and a periodic sweep expires the rest.

PostgreSQL only (btree_gist + tstzrange &&). On SQLite (make run) the service's check runs inside an
IMMEDIATE transaction, which already serialises every writer.
"""

from django.db import migrations

HOLDING = "('requested', 'awaiting_payment', 'confirmed', 'disputed')"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE bookings_booking ADD CONSTRAINT bookings_companion_no_overlap
        EXCLUDE USING gist (companion_id WITH =, tstzrange(start, hold_until, '[)') WITH &&)
        WHERE (status IN {HOLDING})""",
    f"""ALTER TABLE bookings_booking ADD CONSTRAINT bookings_customer_no_overlap
        EXCLUDE USING gist (customer_id WITH =, tstzrange(start, "end", '[)') WITH &&)
        WHERE (status IN {HOLDING})""",
]
BACKWARD = [
    "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS bookings_customer_no_overlap",
    "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS bookings_companion_no_overlap",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
