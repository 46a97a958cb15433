"""PERSON: people's account names in log lines and speaker names in chat transcripts.

Log lines name people by login ("Accepted publickey for dkowalski from ...", "session opened for
user dkowalski(uid=1004)", "sudo: jlee : TTY=pts/0"); a login is personal data, but the NER reads
no name in "dkowalski". Service accounts ("root", "www-data", "postgres", "svc_backup") are no person
and stay.

Chat transcripts put the speaker before a colon ("[09:14] ravi: done", "maria: sure"), often in lower
case, which the NER does not read as a name either. A speaker counts only when its first part is a
listed first name ("anna.k", "ravi") and the line starts with a time stamp or the handle is written in
lower case; roles ("agent", "customer", "bot", "user42") are not names and stay.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from enclave_core.redaction.person import name_lists

__all__ = ["AccountHandleRecognizer"]

_NAME = "AccountHandleRecognizer"
_LOGIN = r"[A-Za-z][A-Za-z0-9._-]{1,30}[A-Za-z0-9]"
_LOG_USER = re.compile(
    r"(?:\b(?:Accepted|Failed)[ \t]+(?:publickey|password|keyboard-interactive(?:/pam)?|gssapi-with-mic)[ \t]+for"
    r"(?:[ \t]+invalid[ \t]+user)?|\bInvalid[ \t]+user|\bfor[ \t]+(?:invalid[ \t]+)?user|\b(?:by|as)[ \t]+user"
    r"|\blogname=\S*[ \t]+uid=\d+[ \t]+euid=\d+[ \t]+tty=\S*[ \t]+ruser=\S*[ \t]+rhost=\S*[ \t]+user="
    r"|\b(?:user|username|login|USER|LOGNAME)=|\bsudo:[ \t]+)"
    r"[ \t]*(" + _LOGIN + r")(?=[ \t(:,;]|\b|$)",
    re.MULTILINE,
)
_CHAT_SPEAKER = re.compile(
    r"^[ \t]*(\[?\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]?[AaPp][Mm])?\]?[ \t]+)?(?:<)?([A-Za-z][A-Za-z._-]{1,30})(?:>)?:[ \t]",
    re.MULTILINE,
)
_SERVICE_ACCOUNT_TEXT = """
root admin administrator nobody daemon www-data www apache nginx postgres mysql redis git gitlab
jenkins ubuntu ec2-user centos debian deploy deployer backup test guest service system sshd ftp mail
operator sync bin sys games man lp news uucp proxy list irc gnats systemd-network systemd-resolve
syslog messagebus docker ansible vagrant oracle tomcat elasticsearch kafka zookeeper grafana prometheus
user users invalid unknown
"""
_SERVICE_ACCOUNTS = frozenset(_SERVICE_ACCOUNT_TEXT.split())
_SCORE = 0.6
# A log line: a syslog or ISO time stamp, a "daemon[pid]:" tag or a uid field.
_LOG_LINE = re.compile(
    r"\b\d{2}:\d{2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\w\[\d+\]:|\buid=\d|\bsudo:|\bpam_unix"
)


class AccountHandleRecognizer(EntityRecognizer):
    """PERSON: logins in log lines and chat speakers whose handle starts with a first name."""

    def __init__(self, supported_language: str = "en") -> None:
        first_names, _surnames = name_lists()
        self._first_names = frozenset(n.casefold() for n in first_names)
        super().__init__(supported_entities=["PERSON"], name=_NAME, supported_language=supported_language)

    def load(self) -> None:  # lists are loaded in __init__
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        out: list[RecognizerResult] = []
        for m in _LOG_USER.finditer(text):
            line = text[text.rfind("\n", 0, m.start()) + 1 : (text.find("\n", m.end()) + 1 or len(text) + 1) - 1]
            if self._personal_login(m.group(1)) and _LOG_LINE.search(line):
                out.append(self._result(m.start(1), m.end(1), "login in a log line"))
        for m in _CHAT_SPEAKER.finditer(text):
            handle = m.group(2)
            stamped = m.group(1) is not None
            if (stamped or handle.islower()) and self._first_part_is_name(handle):
                out.append(self._result(m.start(2), m.end(2), "chat speaker"))
        return out

    def _personal_login(self, login: str) -> bool:
        low = login.casefold()
        if low in _SERVICE_ACCOUNTS or low.startswith(("svc", "sa-", "sa_", "srv", "app-", "app_", "bot")):
            return False
        return not low.isdigit() and any(c.isalpha() for c in low)

    def _first_part_is_name(self, handle: str) -> bool:
        first = re.split(r"[._-]", handle.casefold())[0]
        return len(first) >= 2 and first in self._first_names

    def _result(self, start: int, end: int, why: str) -> RecognizerResult:
        return RecognizerResult(
            entity_type="PERSON",
            start=start,
            end=end,
            score=_SCORE,
            analysis_explanation=AnalysisExplanation(recognizer=_NAME, original_score=_SCORE, textual_explanation=why),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: _NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
