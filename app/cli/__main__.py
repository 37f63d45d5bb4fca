"""``python -m app.cli``: the ``chargeline`` command line."""

from app.cli.parser import main

raise SystemExit(main())
