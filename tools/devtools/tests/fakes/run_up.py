"""`python -m taquilla_devtools up` as it runs, but on the layout given as JSON and with stand-in services.

    python run_up.py '{"layout": {...}, "services": [...], "mail_dir": "...", "log_dir": "..."}'
"""
import asyncio
import json
import logging
import sys
from pathlib import Path

from taquilla_devtools.__main__ import up
from taquilla_devtools.platform import Platform
from taquilla_devtools.services import PlatformLayout

FAKE_SERVICE = Path(__file__).with_name("fake_service.py")


def main() -> int:
    spec = json.loads(sys.argv[1])

    class FakePlatform(Platform):
        def __init__(self, layout, **options):
            super().__init__(layout, **{**options, "log_dir": Path(spec["log_dir"])})

        def command(self, service, kind):
            return [sys.executable, str(FAKE_SERVICE), service, kind]

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    return asyncio.run(up(PlatformLayout(**spec["layout"]), seed=False, platform_class=FakePlatform,
                          services=tuple(spec["services"]), mail_dir=Path(spec["mail_dir"]), ready_timeout=30))


if __name__ == "__main__":
    sys.exit(main())
