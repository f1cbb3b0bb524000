"""Throughput benchmark of /healthz and /auth/token under gunicorn on PostgreSQL (`make bench`)."""
