from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0002_no_overlap_constraints"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="cancelled_for_safety",
            field=models.BooleanField(default=False, verbose_name="cancelled for safety"),
        ),
    ]
