"""Columns that look like direct identifiers of a patient, refused unless the user allows them.

The reference is the HIPAA Privacy Rule's Safe Harbor method, 45 CFR 164.514(b)(2): the
18 kinds of identifiers of an individual (or of relatives, employers, household members)
that must be removed for data to count as de-identified. This module recognises the
kinds that can show in a column of a cohort table:

===============================  ==========================================================
category                         recognised by
===============================  ==========================================================
names                            ``name``/``nom``/``nombre``/``nome`` alone or with a
                                 person word (``patient name``; not ``drug_name``),
                                 ``first_name``, ``surname``, ``prenom``, ``vorname``,
                                 ``nachname``, ``apellido``, ``cognome``, ``xingming``,
                                 ``initials``
medical record numbers           ``mrn``, ``medical record``, ``record number``,
                                 ``hospital number/id``, ``chart number``, ``ipp``,
                                 ``dossier``, ``fallnummer``, ``historia clinica``,
                                 ``cartella clinica``, ``zhuyuanhao``
dates of birth                   ``dob``, ``ddn``, anything with ``birth``,
                                 ``naissance``, ``geburt``, ``nacimiento``, ``nascita``,
                                 ``chusheng``, ``shengri``
other dates tied to a person     a ``date``/``datum``/``fecha``/``dod`` header (days since
                                 infusion are the standard's way to give times); values
                                 that are full calendar dates
addresses (smaller than a state) ``address``, ``street``, ``city``, ``zip``,
                                 ``postcode``, ``adresse``, ``ville``, ``code postal``,
                                 ``strasse``, ``plz``, ``direccion``, ``indirizzo``, ``dizhi``
telephone and fax numbers        ``phone``, ``tel``, ``mobile``, ``fax``, ``telefon``,
                                 ``portable``, ``handy``, ``dianhua``, ``shouji``; values
                                 shaped like phone numbers
email addresses                  ``email``, ``mail``, ``courriel``, ``correo``; email values
social security / national ids   ``ssn``, ``social security``, ``nir``, ``insee``, ``dni``,
                                 ``codice fiscale``, ``passport``, ``national id``,
                                 ``nhs``, ``shenfenzheng``; values shaped like a US SSN
health plan beneficiary numbers  ``insurance number/id``, ``health plan id``,
                                 ``member id``, ``policy number``, ``medicare number``,
                                 ``beneficiary``, ``versichertennummer`` (the payer's
                                 name or type alone is not an identifier)
account numbers                  ``account``, ``iban``, ``billing``, ``card number``
certificate/licence numbers      ``license``, ``licence``, ``certificate number``
vehicle identifiers              ``vin``, ``vehicle``, ``number plate``
device identifiers and serials   ``device id``, ``serial number``, ``imei``, ``udi``,
                                 ``mac address``
web addresses (URLs)             ``url``, ``website``, ``homepage``; ``http(s)://`` values
IP addresses                     ``ip``, ``ip address``; IPv4 values
biometric identifiers            ``biometric``, ``fingerprint``, ``voiceprint``,
                                 ``retina scan``, ``iris scan``
full-face photographs            ``photo``, ``photograph``, ``picture``, ``portrait``
===============================  ==========================================================

Headers are compared after lower-casing, removing accents and splitting words (``DoB``,
``Date of Birth``, ``date-of-birth`` and ``dateOfBirth`` are all the same), in English and
the obvious French, German, Spanish, Italian and Chinese (pinyin and characters) forms.
Values are checked on a sample of the distinct text values of a column: a column is an
identifier when at least half of them are email addresses, phone numbers, US social
security numbers, URLs, IPv4 addresses or full dates.

Only columns outside the data standard are checked: ``patient_id`` is the study's
pseudonym, ``age_years`` an age and the ``*_day`` columns days since infusion, all
allowed. The remaining Safe Harbor item, "any other unique identifying number,
characteristic or code", cannot be recognised from a header.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from cartcohort.ingest.mapping import normalise_header

#: The rule the identifiers are taken from (cited in messages and docs).
REFERENCE = "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)"

#: Distinct values of a column looked at for value shapes.
VALUE_SAMPLE = 200

# Words that may stand beside "name" in the header of a person's name.
_PERSON_WORDS = frozenset(
    {
        "name",
        "names",
        "nom",
        "noms",
        "nombre",
        "nombres",
        "nome",
        "nomi",
        "patient",
        "patients",
        "patiente",
        "paciente",
        "pt",
        "subject",
        "first",
        "last",
        "full",
        "given",
        "family",
        "middle",
        "maiden",
        "birth",
        "sur",
        "mother",
        "father",
        "spouse",
        "contact",
        "emergency",
        "next",
        "kin",
        "relative",
        "guardian",
        "of",
        "the",
        "du",
        "de",
        "des",
        "del",
        "di",
        "la",
        "le",
        "usuel",
        "naissance",
        "famille",
        "jeune",
        "fille",
        "complet",
        "completo",
    }
)
_NAME_WORDS = frozenset({"name", "names", "nom", "noms", "nombre", "nombres", "nome", "nomi"})


@dataclass(frozen=True, slots=True)
class _Category:
    label: str
    tokens: frozenset[str]  # whole words of the header
    parts: tuple[str, ...]  # inside the header with spaces and punctuation removed
    chinese: tuple[str, ...] = ()  # inside the header as written


def _category(label: str, tokens: str, parts: str, chinese: str = "") -> _Category:
    return _Category(label, frozenset(tokens.split()), tuple(parts.split()), tuple(chinese.split()))


_CATEGORIES: tuple[_Category, ...] = (
    _category(
        "names",
        "initials initiales xing xingming mingzi",
        "firstname lastname surname fullname givenname familyname middlename maidenname "
        "forename prenom vorname nachname familienname apellido cognome xingming",
        "姓名 名字",
    ),
    _category(
        "medical record numbers",
        "mrn ipp dossier fallnummer zhuyuanhao binganhao",
        "medicalrecord recordnumber recordno hospitalnumber hospitalno hospitalid chartnumber "
        "chartno numerodossier patientennummer historiaclinica cartellaclinica",
        "住院号 病案号 病历号",
    ),
    _category(
        "dates of birth",
        "dob ddn",
        "birth naissance geburt nacimiento nascita chusheng shengri",
        "出生 生日",
    ),
    _category("dates", "date dates datum fecha dod", "", "日期"),
    _category(
        "telephone or fax numbers",
        "tel mobile mobil portable handy fax cellphone dianhua shouji",
        "phone telephon telefon telefono telefone faxnumber handynummer",
        "电话 手机 传真",
    ),
    _category("email addresses", "mail", "email courriel correo youxiang", "邮箱 邮件"),
    _category(
        "social security or national id numbers",
        "ssn nir insee nss dni nie curp nino svnr sfz cpf pesel bsn nhs nhi",
        "socialsecurity securitesociale segurosocial sozialversicherungsnummer "
        "codicefiscale nationalid nationalidentity identitycard idcard passport "
        "reisepass pasaporte passaporto personalausweis shenfenzheng taxid",
        "身份证",
    ),
    _category(
        "health plan numbers",
        "",
        "insurancenumber insuranceno insuranceid insurancenr healthplanid healthplannumber "
        "memberid membernumber policynumber policyno medicarenumber medicaidnumber "
        "beneficiary versichertennummer versicherungsnummer numerosecu mutuellenumero "
        "numeroafiliacion yibaohao",
        "医保号",
    ),
    _category(
        "account numbers",
        "account iban bic billing",
        "accountnumber accountno bankaccount creditcard cardnumber",
    ),
    _category("certificate or licence numbers", "", "license licence certificatenumber"),
    _category("vehicle identifiers", "vin", "vehicle numberplate"),
    _category(
        "device identifiers or serial numbers",
        "udi imei",
        "deviceid serialnumber serialno macaddress",
    ),
    _category("web addresses (URLs)", "url uri website homepage webpage", "website homepage"),
    _category("IP addresses", "ip ipv4 ipv6", "ipaddress ipaddr"),
    # after email, URL, IP and MAC addresses, the more specific kinds of "address"
    _category(
        "addresses",
        "zip plz city ville ciudad citta town county commune wohnort calle",
        "address adresse street strasse postcode postalcode zipcode codepostal "
        "postleitzahl direccion domicilio indirizzo dizhi",
        "地址 住址",
    ),
    _category(
        "biometric identifiers",
        "",
        "biometric fingerprint voiceprint retinascan irisscan",
    ),
    _category("photographs", "photo photos foto fotos picture", "photograph portrait headshot"),
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9]+")


def _words(header: str) -> list[str]:
    """Lower-case words of a header without accents (``dateOfBirth`` -> date, of, birth)."""
    text = unicodedata.normalize("NFKD", _CAMEL.sub(" ", header))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _WORD.findall(text.lower())


def header_category(header: str) -> str | None:
    """The Safe Harbor category a column header names, or ``None``.

    Examples
    --------
    >>> header_category("Date of Birth"), header_category("patient name")
    ('dates of birth', 'names')
    >>> header_category("drug_name") is None, header_category("E-Mail") == "email addresses"
    (True, True)
    """
    words = _words(header)
    compact = "".join(words)
    if words and _NAME_WORDS & set(words) and set(words) <= _PERSON_WORDS:
        return "names"
    for category in _CATEGORIES:
        if (
            category.tokens & set(words)
            or any(part in compact for part in category.parts)
            or any(word in header for word in category.chinese)
        ):
            return category.label
    if any(w.endswith("datum") for w in words):  # German compounds: Aufnahmedatum
        return "dates"
    return None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_IPV4 = re.compile(r"(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}")
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
# a phone number: 9-15 digits in groups, with a country code, an area code in brackets or
# at least three groups (so 1234.5678 or 150000000 is not one)
_PHONE = re.compile(r"(\+\d{1,3}[\s.-]?)?(\(\d{1,4}\)[\s.-]?)?\d{1,4}([\s.-]\d{2,4}){1,5}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{4}")


def _value_kind(value: object) -> str | None:
    if isinstance(value, dt.date | pd.Timestamp):
        return "dates"
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _EMAIL.fullmatch(text):
        return "email addresses"
    if _URL.fullmatch(text):
        return "web addresses (URLs)"
    if _IPV4.fullmatch(text):
        return "IP addresses"
    if _SSN.fullmatch(text):
        return "social security or national id numbers"
    if _DATE.fullmatch(text):
        return "dates"
    digits = sum(c.isdigit() for c in text)
    groups = len(re.findall(r"\d+", text))
    if _PHONE.fullmatch(text) and 9 <= digits <= 15 and (groups >= 3 or text[0] in "+("):
        return "telephone or fax numbers"
    return None


def values_category(values: Sequence[object] | pd.Series) -> str | None:
    """The Safe Harbor category at least half of the distinct non-empty values belong to.

    Examples
    --------
    >>> values_category(["ana@example.org", "bo@example.org", None])
    'email addresses'
    >>> values_category(["+33 1 23 45 67 89", "(555) 123-4567"])
    'telephone or fax numbers'
    >>> values_category(["1.5e8", "CR", "2"]) is None
    True
    """
    series = pd.Series(values, dtype=object).dropna()
    sample = [
        v for v in pd.unique(series)[:VALUE_SAMPLE] if not (isinstance(v, str) and not v.strip())
    ]
    if not sample:
        return None
    kinds = pd.Series([_value_kind(v) for v in sample], dtype=object).value_counts()
    if kinds.empty or 2 * int(kinds.iloc[0]) < len(sample):
        return None
    return str(kinds.index[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifierColumn:
    """A column that looks like a direct identifier.

    Attributes
    ----------
    table, column
        Where it is (``column`` is the name the cohort uses).
    header
        The header as written in the file.
    category
        The Safe Harbor category (e.g. ``"email addresses"``).
    evidence
        ``"header"`` or ``"values"``: what gave it away.
    """

    table: str
    column: str
    header: str
    category: str
    evidence: str

    @property
    def label(self) -> str:
        """``table.column`` as named in messages."""
        return f"{self.table}.{self.column}"


def identify_column(
    table: str, column: str, values: Sequence[object] | pd.Series, *, header: str | None = None
) -> IdentifierColumn | None:
    """Whether one column looks like a direct identifier (by its header, then its values)."""
    shown = header if header else column
    for name in dict.fromkeys((shown, column)):
        category = header_category(name)
        if category is not None:
            return IdentifierColumn(
                table=table, column=column, header=shown, category=category, evidence="header"
            )
    category = values_category(values)
    if category is not None:
        return IdentifierColumn(
            table=table, column=column, header=shown, category=category, evidence="values"
        )
    return None


def is_allowed(found: IdentifierColumn, allow: Iterable[str]) -> bool:
    """Whether ``allow`` names the column (by its name, its header or ``table.column``)."""
    names = {normalise_header(found.column), normalise_header(found.header)}
    for entry in allow:
        text = entry.strip()
        if not text:
            continue
        if normalise_header(text) in names or text == found.label:
            return True
    return False


def find_identifier_columns(
    tables: Mapping[str, pd.DataFrame],
    extra_columns: Mapping[str, Sequence[str]],
) -> list[IdentifierColumn]:
    """The extra columns of ``tables`` that look like direct identifiers."""
    found = []
    for table, columns in extra_columns.items():
        frame = tables.get(table)
        if frame is None:
            continue
        for column in columns:
            if column in frame.columns:
                hit = identify_column(table, column, frame[column])
                if hit is not None:
                    found.append(hit)
    return found


def split_allow(values: Iterable[str] | None) -> tuple[str, ...]:
    """``["a,b", "c"]`` -> ``("a", "b", "c")``: the entries of ``--allow-identifiers``."""
    return tuple(p.strip() for v in values or () for p in v.split(",") if p.strip())


def refusal_message(found: Sequence[IdentifierColumn], *, action: str) -> str:
    """The message for identifier columns that were not allowed (``action``: "stored" ...)."""
    listed = "; ".join(f"{f.label} ({f.category}, from its {f.evidence})" for f in found)
    names = ",".join(dict.fromkeys(f.column for f in found))
    return (
        f"{len(found)} column(s) look like direct identifiers of patients ({REFERENCE}) and "
        f"were not {action}: {listed}. Remove them from the data (the standard needs only "
        "the pseudonymous patient_id), or, if your approvals allow keeping them, pass "
        f"--allow-identifiers {names} (Python: allow_identifiers=[...])."
    )


__all__ = [
    "REFERENCE",
    "IdentifierColumn",
    "find_identifier_columns",
    "header_category",
    "identify_column",
    "is_allowed",
    "refusal_message",
    "split_allow",
    "values_category",
]
