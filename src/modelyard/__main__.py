"""``python -m modelyard``: the command line (see :mod:`modelyard.cli`)."""

from modelyard.cli import main

raise SystemExit(main())
