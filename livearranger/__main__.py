"""``python -m livearranger``: the same as the ``livearranger`` command."""

import sys

from livearranger.cli import main

sys.exit(main())
