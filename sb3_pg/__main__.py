import sys

from sb3_pg.cli import main

sys.exit(main())
