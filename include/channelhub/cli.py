"""``channelhub``: the hub's command line (the commands are in :mod:`channelhub.commands`).

Beside ``make up`` it adopts the running stack's environment first (see
:mod:`channelhub.running_stack`), before Airflow is imported, so connections made in the UI
and the stack's config folders are what the commands see. ``channelhub airflow <args>``
runs Airflow's own CLI in that environment (``channelhub airflow dags trigger ...``).
"""

from __future__ import annotations

import os
import shutil
import sys

from channelhub.running_stack import adopt_running_stack


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    adopt_running_stack()
    # An operator's tool, like Airflow's own `airflow connections` commands, which set the same:
    # connections are then looked up in the metadata database too (those made in the UI), not
    # only in the environment and external secrets backends as in an unknown process.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    if argv[:1] == ["airflow"]:
        airflow = shutil.which("airflow", path=os.path.dirname(sys.executable)) or "airflow"
        os.execv(airflow, [airflow, *argv[1:]])
    from channelhub.commands import run  # imports Airflow: only once the environment is settled

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
