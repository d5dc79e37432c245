"""`make bench`: seed a separate PostgreSQL database with 20,000 companions, serve the site with gunicorn
under production-like settings (config/settings/bench.py) and print measured latencies and query counts.

Figures are reported, never asserted: timings depend on the machine. Entry point: `python -m tests.bench.run`.
"""
