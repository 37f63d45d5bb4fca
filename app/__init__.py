"""The composition root of Chargeline.

Settings, the database and its migrations, OAuth2 and JWT, the REST routers, the CLI and the
process roles (``serve``, ``api``, ``edge``). It is the only package that reads the
environment and the only place where the domain packages are wired together.
"""
