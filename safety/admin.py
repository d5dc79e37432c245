"""The safety app's admin. Reports about people, staff decisions and the safety queue live in
safety/report_admin.py."""

from safety import report_admin  # noqa: F401 - registers its admins
