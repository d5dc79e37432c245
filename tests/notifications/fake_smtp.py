"""A tiny SMTP server on 127.0.0.1 for tests that drive Django's real SMTP backend (smtplib) against it.

It speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to receive messages, and can
misbehave once per fault queued with `fail_next`:
- `Fault(refuse_recipient=550)` (or 451): the RCPT command is answered with that code;
- `Fault(drop_after_data=True)`: the message is received whole, then the connection is closed without
  an answer (the sender cannot tell whether it was accepted);
- `Fault(hang_after_data=True)`: the message is received whole, and no answer comes until `release()`.
Every message received whole is kept in `messages` (parsed) whatever happened after.

`FlakyBackend` is Django's test (locmem) backend failing as told, for tests that need no conversation.
"""

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


@dataclass(frozen=True)
class Fault:
    refuse_recipient: int = 0
    drop_after_data: bool = False
    hang_after_data: bool = False


class FakeSMTP:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.faults: list[Fault] = []
        self.connections = 0
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._running = True

    def __enter__(self) -> "FakeSMTP":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._running = False
        self._released.set()
        self._listener.close()

    def fail_next(self, fault: Fault) -> None:
        self.faults.append(fault)

    def release(self) -> None:
        self._released.set()

    def wait_for_messages(self, count: int, *, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.messages) >= count, timeout=timeout)

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _address = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as lines:
            fault = self.faults.pop(0) if self.faults else Fault()
            connection.sendall(b"220 fake.test ESMTP\r\n")
            while True:
                line = lines.readline()
                if not line:
                    return
                command = line[:4].upper()
                if command == b"EHLO":
                    connection.sendall(b"250-fake.test\r\n250 8BITMIME\r\n")
                elif command == b"RCPT" and fault.refuse_recipient:
                    connection.sendall(f"{fault.refuse_recipient} mailbox unavailable\r\n".encode())
                elif command == b"DATA":
                    connection.sendall(b"354 go ahead\r\n")
                    data = []
                    while (chunk := lines.readline()) not in (b".\r\n", b""):
                        data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    with self._changed:
                        self.messages.append(message_from_bytes(b"".join(data)))
                        self._changed.notify_all()
                    if fault.drop_after_data:
                        return
                    if fault.hang_after_data:
                        self._released.wait()
                        return
                    connection.sendall(b"250 queued\r\n")
                elif command == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    return
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    connection.sendall(b"250 ok\r\n")


class FlakyBackend(LocmemBackend):
    """Django's test backend, failing as told. `FlakyBackend.failures` is a list of (error, delivered):
    each send takes the next one and raises the error, after putting the message in mail.outbox first
    when `delivered` (the server got it, the answer was lost). Every call is counted."""

    failures: list[tuple[OSError, bool]] = []
    calls = 0

    def send_messages(self, messages):
        FlakyBackend.calls += 1
        if FlakyBackend.failures:
            error, delivered = FlakyBackend.failures.pop(0)
            if delivered:
                super().send_messages(messages)
            raise error
        return super().send_messages(messages)
