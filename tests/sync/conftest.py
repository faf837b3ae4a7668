"""Fixtures for the sync tests that run against real servers.

- `sshd`: a running OpenSSH server (sshd.py), killed after the test.
- `remote`: an empty folder for the SFTP backends to use on that server.
- `smbd`: a running Samba server (smbd.py), killed after the test.
- `share_root`: the folder the SMB backends use ("sync" on the share), as seen on disk.
tests/e2e/test_sync_cli.py imports `sshd` and `remote` from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.smbd import SmbServer, smbd_server
from tests.sync.sshd import SshServer, sshd_server


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    with sshd_server(tmp_path / "sshd") as server:
        yield server


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    root = tmp_path / "remote"
    root.mkdir()
    return root


@pytest.fixture
def smbd(tmp_path: Path) -> Iterator[SmbServer]:
    with smbd_server(tmp_path / "smbd") as server:
        yield server


@pytest.fixture
def share_root(smbd: SmbServer) -> Path:
    return smbd.share_dir / "sync"
