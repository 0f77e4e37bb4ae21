"""``python -m qimage`` runs the command line."""

import sys

from qimage.cli import main

sys.exit(main())
