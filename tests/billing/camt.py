"""CAMT.053 statements for the tests, in the .02 or the .08 layout."""

from dataclasses import dataclass, field

from django.utils import timezone


@dataclass
class Entry:
    amount: str
    remittance: str = ""
    indicator: str = "CRDT"
    booked_on: str = field(default_factory=lambda: timezone.localdate().isoformat())
    reference: str | None = None  # AcctSvcrRef
    end_to_end: str = "NOTPROVIDED"
    structured: bool = False
    status: str = "BOOK"
    currency: str = "EUR"
    debtor: str = "Zorggroep De Linde"


def _entry(entry: Entry, version: str) -> str:
    status = (
        f"<Sts><Cd>{entry.status}</Cd></Sts>" if version >= "08" else f"<Sts>{entry.status}</Sts>"
    )
    debtor = (
        f"<Dbtr><Pty><Nm>{entry.debtor}</Nm></Pty></Dbtr>"
        if version >= "08"
        else f"<Dbtr><Nm>{entry.debtor}</Nm></Dbtr>"
    )
    if entry.structured:
        remittance = (
            "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{entry.remittance}</Ref></CdtrRefInf></Strd></RmtInf>"
        )
    else:
        remittance = f"<RmtInf><Ustrd>{entry.remittance}</Ustrd></RmtInf>"
    reference = f"<AcctSvcrRef>{entry.reference}</AcctSvcrRef>" if entry.reference else ""
    return f"""
      <Ntry>
        <Amt Ccy="{entry.currency}">{entry.amount}</Amt>
        <CdtDbtInd>{entry.indicator}</CdtDbtInd>
        {status}
        <BookgDt><Dt>{entry.booked_on}</Dt></BookgDt>
        <ValDt><Dt>{entry.booked_on}</Dt></ValDt>
        {reference}
        <BkTxCd><Prtry><Cd>N654</Cd><Issr>ABNAMRO</Issr></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{entry.end_to_end}</EndToEndId></Refs>
          <RltdPties>{debtor}<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties>
          {remittance}
        </TxDtls></NtryDtls>
      </Ntry>"""


def statement(*entries: Entry, statement_id="2026-11-20-001", version="02") -> bytes:
    body = "".join(_entry(entry, version) for entry in entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <CreDtTm>2026-11-21T06:00:00</CreDtTm>
      <Acct><Id><IBAN>NL02ABNA0123456789</IBAN></Id><Ccy>EUR</Ccy></Acct>{body}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()
