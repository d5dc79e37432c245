"""Load and soak (issue 19): a locust scenario against gunicorn + PostgreSQL + Redis + a Celery worker."""
