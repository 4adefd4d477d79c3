"""``python -m durableflow.cli`` runs the ``durable`` command."""

import sys

from durableflow.cli import main

sys.exit(main())
