"""Starts Radicale from a config file with fsync turned off. Radicale accepts ``_filesystem_fsync`` only
as a privileged update (not from a config file or the command line), hence this launcher.
Run as ``python radicale_launcher.py CONFIG``; SIGTERM stops it.
"""

from __future__ import annotations

import sys

from radicale import config, log, server


def main(config_path: str) -> None:
    log.setup()
    configuration = config.load([(config_path, False)])
    configuration.update({"storage": {"_filesystem_fsync": "False"}}, "benchmark launcher", privileged=True)
    log.set_level("warning", False)
    server.serve(configuration)


if __name__ == "__main__":
    main(sys.argv[1])
