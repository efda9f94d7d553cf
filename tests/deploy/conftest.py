"""Makes deploy_facts (paths and the platform's service list) importable by the tests beside it:
the project runs pytest with --import-mode=importlib, which leaves sys.path alone."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
