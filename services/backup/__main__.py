"""``python -m services.backup``: see ``entrypoint``."""

import sys

from services.backup.entrypoint import main

sys.exit(main())
