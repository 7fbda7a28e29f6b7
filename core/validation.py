"""Cleaning and checking of what users type: names, emails, phones, timezones, methods."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal, overload
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.echo import quoted
from core.errors import InvalidInput
from core.vocabulary import MAX_WARMNESS, OUTCOMES, OUTREACH_METHODS, ROLES

PLATFORM_NAMES = {"slack": "Slack", "telegram": "Telegram", "console": "the console"}
METHOD_LABELS = {
    "linkedin": "LinkedIn",
    "email": "Email",
    "call": "Call",
    "campaign_email": "Campaign email",
    "referral": "Referral",
    "conference": "Conference",
    "meeting": "Meeting",
    "note": "Note",
}


@overload
def clean_text(value: str | None, *, field: str, max_length: int, required: Literal[True]) -> str: ...
@overload
def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str | None: ...


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str | None:
    value = " ".join((value or "").split())  # every run of whitespace as one space, none at the ends
    if not value:
        if required:
            raise InvalidInput(f"The {field} can't be empty.")
        return None
    if len(value) > max_length:
        raise InvalidInput(f"The {field} is too long ({len(value)} characters, at most {max_length}).")
    return value


def clean_note(value: str | None, max_length: int = 5000) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > max_length:
        raise InvalidInput(f"That note is too long ({len(value)} characters, at most {max_length}).")
    return value


def clean_name(value: str | None) -> str:
    return clean_text(value, field="name", max_length=200, required=True)


# A plain ASCII address (a dot-atom before the @, a host name after it) whose whole validation is its domain's:
# the domain is validated once (`_email_domain`), the rest is this pattern and the lengths RFC 5321 sets.
_PLAIN_EMAIL = re.compile(r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@([A-Za-z0-9.-]+)")
LOCAL_PART_MAX = 64
EMAIL_MAX = 254


def clean_email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    plain = _PLAIN_EMAIL.fullmatch(value) if len(value) <= EMAIL_MAX else None
    if plain and len(plain[1]) <= LOCAL_PART_MAX:
        domain = _email_domain(plain[2])
        if domain is None:
            raise InvalidInput(f"“{value[:80]}” is not a valid email address.")
        return f"{plain[1]}@{domain}".lower()
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InvalidInput(f"“{value[:80]}” is not a valid email address.") from None


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str | None:
    """The domain as email-validator normalises it, or None when no address at it is valid."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def clean_phone(value: str | None, region: str = "GB") -> str | None:
    """Normalise to E.164 (+441234567890) using `region` for numbers without a country code."""
    value = (value or "").strip()
    if not value:
        return None
    e164 = _e164(value, region)
    if e164 is None:
        raise InvalidInput(f"“{value[:40]}” is not a phone number I can read.")
    return e164


@lru_cache(maxsize=1 << 15)
def _e164(value: str, region: str) -> str | None:
    """The number in E.164, or None when it can't be read (remembered: a file repeats its switchboards)."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(value: str | None) -> str | None:
    """A stored phone (E.164) as people read it, in international format with spaces: +44 20 7946 0958."""
    if not value:
        return value
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def clean_linkedin_url(value: str | None) -> str | None:
    """A LinkedIn address as written (`linkedin.com/in/ana`, `https://www.linkedin.com/in/ana`), checked."""
    value = clean_text(value, field="LinkedIn URL", max_length=500)
    if value is None:
        return None
    parts = urlsplit(value if "://" in value else f"https://{value}")
    host = (parts.hostname or "").lower() if parts.scheme in ("http", "https") else ""
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")) or parts.path.strip("/") == "":
        raise InvalidInput(f"{quoted(value, 60)} is not a LinkedIn address (linkedin.com/in/…).")
    return value


def clean_timezone(value: str) -> str:
    value = (value or "").strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: names too long for a file path
        raise InvalidInput(f"“{value[:60]}” is not a timezone I know. Try one like Europe/London.") from None
    return value


def clean_role(value: str) -> str:
    value = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if value not in ROLES:
        raise InvalidInput(f"The role must be one of: {', '.join(ROLES)}.")
    return value


def clean_method(value: str) -> str:
    value = (value or "").strip().lower()
    if value not in OUTREACH_METHODS:
        raise InvalidInput(f"{quoted(value, 40)} is not an outreach method. Use one of: {', '.join(OUTREACH_METHODS)}.")
    return value


def clean_outcome(value: str) -> str:
    value = (value or "none").strip().lower()
    if value not in OUTCOMES:
        raise InvalidInput(f"“{value[:40]}” is not an outcome. Use one of: {', '.join(OUTCOMES)}.")
    return value


def clean_warmness(value: int) -> int:
    if not 0 <= value <= MAX_WARMNESS:
        raise InvalidInput(f"Warmness goes from 0 to {MAX_WARMNESS}.")
    return value


_WARMNESS_WORDS = {"cold": 0, "cool": 1, "lukewarm": 2, "tepid": 2, "warm": 4, "hot": 5}


def read_warmness(value: str | None) -> int | None:
    """A warmness as people write it: 0 to 5 (`4/5` too) or a word such as cold, warm, hot."""
    value = (value or "").strip().lower()
    if not value:
        return None
    if value in _WARMNESS_WORDS:
        return _WARMNESS_WORDS[value]
    match = re.fullmatch(r"(\d)(?:\.0*)?(?:\s*/\s*5)?", value)
    if match is None:
        raise InvalidInput(f"“{value[:20]}” is not a warmness (0 to 5, or cold/warm/hot).")
    return clean_warmness(int(match[1]))


_MONEY = re.compile(r"(?P<amount>[\d.,]+)\s*(?P<scale>[km]?)\s*(?P<currency>[a-z]{3})?", re.IGNORECASE)
_SCALES = {"": 1, "k": 1_000, "m": 1_000_000}


def read_money(value: str | None) -> tuple[Decimal, str | None]:
    """An amount with an optional currency code: `12000`, `12k EUR`, `1.5m USD`, `EUR 12k`."""
    text = (value or "").strip()
    code = re.fullmatch(r"([a-z]{3})\s+(.+)", text, re.IGNORECASE)
    if code and not code[1].isdigit():
        text = f"{code[2]} {code[1]}"
    match = _MONEY.fullmatch(text)
    amount = clean_amount(match["amount"]) if match else None
    if match is None or amount is None:
        raise InvalidInput(f"{quoted(text, 40)} is not an amount. Try `12000`, `12k EUR` or `1.5m USD`.")
    scaled = clean_amount(amount * _SCALES[match["scale"].lower()])
    assert scaled is not None
    return scaled, match["currency"].upper() if match["currency"] else None


def clean_amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput(f"{quoted(str(value), 40)} is not an amount.") from None
    if amount < 0 or amount >= Decimal("1e12"):
        raise InvalidInput("Past business must be a positive amount.")
    return amount.quantize(Decimal("0.01"))
