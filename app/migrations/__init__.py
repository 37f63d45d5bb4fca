"""Alembic migrations (``chargeline db upgrade``)."""
