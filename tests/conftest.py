"""Make the shared fixtures in tests/ importable as plain modules (``from learner_classes import ...``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
