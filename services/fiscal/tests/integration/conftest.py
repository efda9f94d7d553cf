import sys
from pathlib import Path

# the tests share builders from fiscal_test_helpers (pytest runs with --import-mode=importlib)
sys.path.insert(0, str(Path(__file__).parent))
