"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl from Debian's postgresql package,
listening only on a Unix socket in a temporary folder.  As root, the cluster runs as the
unprivileged ``nobody`` user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster; yield its ``postgresql://`` URL; stop and delete it."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    root = tempfile.mkdtemp(prefix="bt-pg-")
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    if as_root:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)

    def run(*args: str) -> None:
        command = list(args)
        if as_root:
            command = ["runuser", "-u", user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    data = os.path.join(root, "data")
    try:
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", user, "--no-sync")
        run(
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-w",
            "-t",
            "60",
            "-l",
            os.path.join(root, "log"),
            "-o",
            f"-k {root} -c listen_addresses='' -c fsync=off",
            "start",
        )
        try:
            yield f"postgresql://{user}@/postgres?host={root}"
        finally:
            run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
