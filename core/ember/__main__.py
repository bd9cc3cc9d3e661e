"""``python -m ember`` runs the command line."""

from ember.cli import main

raise SystemExit(main())
