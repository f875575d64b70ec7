"""Reading a CAMT.053 bank statement (ISO 20022 BankToCustomerStatement, the XML day statement
Dutch banks export), versions camt.053.001.02 up to .13: the credits of every statement in the
file, each with amount, booking date, description (unstructured or the creditor's structured
reference), end-to-end id and payer. Nothing is stored here: a bad file raises ``CamtError``
naming the line and the element, before anything is written.

The XML is read safely: no DOCTYPE is accepted (so no entity can be declared, let alone
expanded), entities are never resolved, nothing is fetched from the network and lxml's limits
on huge documents stay on.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

from hap_contracting.core.errors import DomainError

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}$")
AMOUNT = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
# What an entry keeps of its texts (the model's field lengths).
REMITTANCE_LENGTH, END_TO_END_LENGTH, NAME_LENGTH, ACCOUNT_LENGTH = 500, 35, 140, 34


class CamtError(DomainError):
    """The file is not a statement we can read; the message names the line and the element."""


@dataclass(frozen=True)
class Credit:
    """One credited transaction: an entry, or one transaction of a batch entry."""

    key: str
    statement_id: str
    amount: Decimal
    booked_on: datetime.date
    remittance: str
    end_to_end_id: str
    debtor_name: str
    debtor_account: str
    line_number: int


@dataclass
class Statement:
    """What a file holds: its statements' ids and account, the credits, and what was left
    out."""

    statement_ids: list[str] = field(default_factory=list)
    account: str = ""
    credits: list[Credit] = field(default_factory=list)
    debit_count: int = 0
    unbooked_count: int = 0


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_statement(content: bytes) -> Statement:
    try:
        tree = etree.fromstring(content, parser=_parser()).getroottree()
    except etree.XMLSyntaxError as error:
        line = error.lineno or 1
        raise CamtError(
            _("The file is not readable XML: the error is on line %(line)s.") % {"line": line}
        ) from error
    if tree.docinfo.doctype:
        raise CamtError(
            _(
                "The file declares a document type (DOCTYPE, line 1); a bank statement has "
                "none, so the file is not read."
            )
        )
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "Document" or not NAMESPACE.match(namespace):
        raise CamtError(
            _(
                "This is not a CAMT.053 bank statement: line %(line)s has the element "
                "%(element)s, expected Document of camt.053."
            )
            % {"line": root.sourceline, "element": etree.QName(root).localname}
        )
    reader = _Reader(namespace)
    message = reader.required(root, "BkToCstmrStmt")
    statements = reader.all(message, "Stmt")
    if not statements:
        raise CamtError(
            _("Line %(line)s: element %(element)s is missing.")
            % {"line": message.sourceline, "element": "Stmt"}
        )
    result = Statement()
    for statement in statements:
        reader.read_statement(statement, result)
    return result


class _Reader:
    def __init__(self, namespace: str):
        self.ns = {"c": namespace}

    def _path(self, path: str) -> str:
        return "/".join(f"c:{part}" for part in path.split("/"))

    def first(self, element, path: str):
        return element.find(self._path(path), self.ns)

    def all(self, element, path: str) -> list:
        return element.findall(self._path(path), self.ns)

    def text(self, element, path: str) -> str:
        found = self.first(element, path)
        return (found.text or "").strip() if found is not None else ""

    def required(self, element, path: str):
        found = self.first(element, path)
        if found is None:
            raise CamtError(
                _("Line %(line)s: element %(element)s is missing.")
                % {"line": element.sourceline, "element": path.rsplit("/", 1)[-1]}
            )
        return found

    def required_text(self, element, path: str) -> tuple[str, object]:
        found = self.required(element, path)
        value = (found.text or "").strip()
        if not value:
            raise CamtError(
                _("Line %(line)s: element %(element)s is empty.")
                % {"line": found.sourceline, "element": path.rsplit("/", 1)[-1]}
            )
        return value, found

    def amount(self, element) -> Decimal:
        value = (element.text or "").strip()
        names = {"line": element.sourceline, "element": etree.QName(element).localname}
        if not AMOUNT.match(value):
            raise CamtError(
                _("Line %(line)s, element %(element)s: “%(value)s” is not an amount.")
                % {**names, "value": value[:20]}
            )
        currency = element.get("Ccy", "")
        if currency != "EUR":
            raise CamtError(
                _(
                    "Line %(line)s, element %(element)s: only amounts in euros are read, this "
                    "one is in “%(currency)s”."
                )
                % {**names, "currency": currency[:5]}
            )
        try:
            return Decimal(value)
        except InvalidOperation as error:  # pragma: no cover (the pattern admits only numbers)
            raise CamtError(str(error)) from error

    def date(self, entry) -> datetime.date:
        booking = self.required(entry, "BookgDt")
        found = self.first(booking, "Dt")
        if found is None:
            found = self.first(booking, "DtTm")
        if found is None:
            raise CamtError(
                _("Line %(line)s: element %(element)s is missing.")
                % {"line": booking.sourceline, "element": "Dt"}
            )
        value = (found.text or "").strip()
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError as error:
            raise CamtError(
                _("Line %(line)s, element %(element)s: “%(value)s” is not a date.")
                % {
                    "line": found.sourceline,
                    "element": etree.QName(found).localname,
                    "value": value[:30],
                }
            ) from error

    def status(self, entry) -> str:
        status = self.first(entry, "Sts")
        if status is None:
            return "BOOK"
        code = self.text(status, "Cd") or (status.text or "").strip()
        return code

    def remittance(self, transaction) -> str:
        if transaction is None:
            return ""
        parts = [
            *((item.text or "").strip() for item in self.all(transaction, "RmtInf/Ustrd")),
            *(
                (ref.text or "").strip()
                for ref in self.all(transaction, "RmtInf/Strd/CdtrRefInf/Ref")
            ),
        ]
        return " ".join(part for part in parts if part)[:REMITTANCE_LENGTH]

    def debtor(self, transaction) -> tuple[str, str]:
        if transaction is None:
            return "", ""
        name = self.text(transaction, "RltdPties/Dbtr/Nm") or self.text(
            transaction, "RltdPties/Dbtr/Pty/Nm"
        )
        account = self.text(transaction, "RltdPties/DbtrAcct/Id/IBAN")
        return name[:NAME_LENGTH], account[:ACCOUNT_LENGTH]

    def read_statement(self, statement, result: Statement) -> None:
        statement_id, _element = self.required_text(statement, "Id")
        account = self.text(statement, "Acct/Id/IBAN") or self.text(statement, "Acct/Id/Othr/Id")
        result.statement_ids.append(statement_id)
        result.account = result.account or account
        for position, entry in enumerate(self.all(statement, "Ntry"), start=1):
            indicator, indicator_element = self.required_text(entry, "CdtDbtInd")
            if indicator not in ("CRDT", "DBIT"):
                raise CamtError(
                    _("Line %(line)s, element %(element)s: CRDT or DBIT expected.")
                    % {"line": indicator_element.sourceline, "element": "CdtDbtInd"}
                )
            entry_amount = self.amount(self.required(entry, "Amt"))
            booked_on = self.date(entry)
            if indicator == "DBIT":
                result.debit_count += 1
                continue
            if self.status(entry) != "BOOK":
                result.unbooked_count += 1
                continue
            transactions = self.all(entry, "NtryDtls/TxDtls")
            reference = self.text(entry, "AcctSvcrRef") or self.text(entry, "NtryRef")
            for index, transaction in enumerate(transactions or [None]):
                amount = entry_amount
                if len(transactions) > 1:
                    own = self.first(transaction, "AmtDtls/TxAmt/Amt")
                    if own is None:
                        own = self.first(transaction, "Amt")
                    if own is None:
                        raise CamtError(
                            _("Line %(line)s: element %(element)s is missing.")
                            % {"line": transaction.sourceline, "element": "TxAmt"}
                        )
                    amount = self.amount(own)
                if amount <= 0:
                    raise CamtError(
                        _("Line %(line)s, element %(element)s: a credit of zero euros.")
                        % {"line": entry.sourceline, "element": "Amt"}
                    )
                name, debtor_account = self.debtor(transaction)
                end_to_end = ""
                if transaction is not None:
                    end_to_end = self.text(transaction, "Refs/EndToEndId")
                    if end_to_end == "NOTPROVIDED":
                        end_to_end = ""
                line_number = (transaction if transaction is not None else entry).sourceline
                result.credits.append(
                    Credit(
                        key=_entry_key(account, statement_id, reference, position, index, entry),
                        statement_id=statement_id[:35],
                        amount=amount,
                        booked_on=booked_on,
                        remittance=self.remittance(transaction),
                        end_to_end_id=end_to_end[:END_TO_END_LENGTH],
                        debtor_name=name,
                        debtor_account=debtor_account,
                        line_number=line_number or entry.sourceline,
                    )
                )


def _entry_key(account, statement_id, reference, position, index, entry) -> str:
    """The same transaction of the same statement gives the same key in every import: the
    bank's own reference of the entry where it gives one, otherwise the entry's place in the
    statement and its canonical XML."""
    if reference:
        identity = f"{account}|{statement_id}|ref:{reference}|{index}"
    else:
        content = etree.tostring(entry, method="c14n").decode()
        identity = f"{account}|{statement_id}|pos:{position}|{index}|{content}"
    return hashlib.sha256(identity.encode()).hexdigest()
