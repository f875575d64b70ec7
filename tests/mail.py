"""An e-mail backend for tests whose server misbehaves as real ones do: it refuses some
addresses (for good, or for now: 4xx) and can drop the connection after a number of messages."""

import smtplib

from django.core.mail.backends import locmem

REFUSED_ADDRESSES: set[str] = set()
TEMPORARILY_REFUSED: set[str] = set()
DISCONNECT_AFTER: list[int] = []  # [n]: the connection drops when message n+1 is sent


def reset() -> None:
    REFUSED_ADDRESSES.clear()
    TEMPORARILY_REFUSED.clear()
    DISCONNECT_AFTER.clear()


class RefusingEmailBackend(locmem.EmailBackend):
    def send_messages(self, messages):
        for message in messages:
            if DISCONNECT_AFTER:
                if DISCONNECT_AFTER[0] == 0:
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
                DISCONNECT_AFTER[0] -= 1
            recipients = set(message.recipients())
            if recipients & REFUSED_ADDRESSES:
                raise smtplib.SMTPRecipientsRefused(
                    dict.fromkeys(recipients & REFUSED_ADDRESSES, (550, b"5.1.1 unknown user"))
                )
            if recipients & TEMPORARILY_REFUSED:
                raise smtplib.SMTPRecipientsRefused(
                    dict.fromkeys(recipients & TEMPORARILY_REFUSED, (451, b"4.7.1 try later"))
                )
        return super().send_messages(messages)
