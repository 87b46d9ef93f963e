"""``python -m baryir`` runs the ``baryir`` command."""

from baryir.cli import main

raise SystemExit(main())
