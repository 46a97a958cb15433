"""The IMAP connector against a real Dovecot (Debian's dovecot-imapd, `make imap-server`), started
by the test without privileges: its `imap` binary speaks IMAP over stdin/stdout for the user
running it (imaplib.IMAP4_stream), with a Maildir in a temporary folder. Run as root, it is
started as "nobody" (Dovecot refuses mail access as root). What this does not cover: login and
TLS, which the production path (IMAP4_SSL + LOGIN) adds in front of the same commands."""

from __future__ import annotations

import imaplib
import os
import shlex
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from enclave_core.errors import UnknownCollection
from enclave_core.identity import Principal
from enclave_core.service import RagService
from ingest import Ingestor
from ingest.connectors import Syncer, SyncState
from ingest.connectors.imap import ImapConnector
from tests.fixtures.format_corpus import MARKERS, make_eml

DOVECOT_IMAP = Path("/usr/lib/dovecot/imap")
pytestmark = pytest.mark.skipif(not DOVECOT_IMAP.exists(), reason="dovecot-imapd not installed (make imap-server)")
COLLECTION = "mail"
NOBODY = 65534

CONFIG = """protocols = imap
mail_location = maildir:{home}/Maildir:LAYOUT=fs
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
ssl = no
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Callable[[], imaplib.IMAP4]]:
    # Not under pytest's tmp_path: its parent is private to root, and "nobody" must reach the Maildir.
    with tempfile.TemporaryDirectory(prefix="enclave-dovecot-") as folder:
        home = Path(folder)
        config = home / "dovecot.conf"
        config.write_text(CONFIG.format(home=home), encoding="utf-8")
        prefix = ""
        if os.geteuid() == 0:
            for path in (home, config):
                os.chown(path, NOBODY, NOBODY)
            prefix = f"setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups "
        user = "nobody" if prefix else os.environ.get("USER", "enclave")
        server = f"{DOVECOT_IMAP} -c {shlex.quote(str(config))}"
        command = f"{prefix}env USER={user} HOME={shlex.quote(str(home))} {server}"
        yield lambda: imaplib.IMAP4_stream(command)


def _plain(subject: str, body: str) -> bytes:
    return f"From: it@example.org\r\nTo: staff@example.org\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


def _sources(core: Any, groups: list[str], question: str) -> set[str]:
    who = Principal(name="u", groups=frozenset(groups), auth="api-key", subject="u-" + "-".join(groups))
    try:
        return {h.source for h in RagService(core).search(who, COLLECTION, question, top_k=10)}
    except UnknownCollection:
        return set()


def test_imap_folders_sync_with_their_readers(core: Any, dovecot: Any, tmp_path: Path) -> None:
    admin = dovecot()
    for folder in ("HR", "Eng"):
        assert admin.create(folder)[0] == "OK"
    assert admin.append("HR", None, None, make_eml())[0] == "OK"
    assert admin.append("Eng", None, None, _plain("Release", "The release train leaves on Fridays."))[0] == "OK"
    folders = {"HR": ["hr"], "Eng": ["eng"]}
    connector = ImapConnector("mailbox", folders, dovecot)
    ingestor = Ingestor(core)
    state = SyncState(tmp_path / "sync.sqlite")
    syncer = Syncer(ingestor, state)

    first = syncer.sync(COLLECTION, connector)
    assert first.added == 2 and not first.failed
    hr = _sources(core, ["hr"], f"{MARKERS['message.eml']} tank") | _sources(core, ["hr"], "capybara keeper minutes")
    assert {"HR/1.eml", "HR/1.eml/minutes.txt"} <= hr  # the attachment is a child with the folder's readers
    assert _sources(core, ["eng"], "capybara keeper minutes") <= {"Eng/1.eml"}
    assert syncer.sync(COLLECTION, connector).unchanged == 2

    # Moving the message to Eng moves its readers with it; hr loses it (and its attachment).
    admin.select("HR")
    assert admin.uid("MOVE", "1", "Eng")[0] == "OK"
    moved = syncer.sync(COLLECTION, connector)
    assert moved.moved == 1
    assert "Eng/2.eml/minutes.txt" in _sources(core, ["eng"], "capybara keeper minutes")
    assert not {s for s in _sources(core, ["hr"], "capybara keeper minutes") if s.startswith("HR/")}

    # A changed folder mapping is a reader update, not a re-read.
    changed = syncer.sync(COLLECTION, ImapConnector("mailbox", {"HR": ["hr"], "Eng": ["eng", "hr"]}, dovecot))
    assert changed.readers_changed == 2 and changed.added == 0

    # Expunged mail disappears, attachments included.
    admin.select("Eng")
    admin.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
    admin.expunge()
    gone = syncer.sync(COLLECTION, connector)
    assert gone.deleted == 2
    assert core.store.count(COLLECTION) == 0
    admin.logout()
    state.close()
    ingestor.manifest.close()
