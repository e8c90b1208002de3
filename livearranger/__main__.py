"""``python -m livearranger``: the same as the ``livearranger`` command."""

import sys

from livearranger.launch import main

sys.exit(main())
