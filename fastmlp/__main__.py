"""``python -m fastmlp``: the command line."""
import sys

from fastmlp.cli import main

sys.exit(main())
