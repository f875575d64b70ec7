"""An e-mail backend for tests whose server refuses some addresses, as a real one may."""

import smtplib

from django.core.mail.backends import locmem

REFUSED_ADDRESSES: set[str] = set()


class RefusingEmailBackend(locmem.EmailBackend):
    def send_messages(self, messages):
        for message in messages:
            refused = set(message.recipients()) & REFUSED_ADDRESSES
            if refused:
                raise smtplib.SMTPRecipientsRefused(
                    dict.fromkeys(refused, (550, b"5.1.1 mailbox unavailable"))
                )
        return super().send_messages(messages)
