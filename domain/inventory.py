"""Activity inventories from spreadsheets: read a CSV or XLSX file, suggest which column is which
Lotsa field, and check every cell of every row before anything is imported.

`read_table` turns the bytes into text cells (CSV in UTF-8, UTF-8 with BOM, UTF-16 with BOM or
Windows-1252; delimiter , ; or tab; XLSX through openpyxl, cached values only). It finds the sheet
(an instructions sheet first is skipped) and the header row (title rows above it are skipped)
whose headings name the most Lotsa fields, or takes the ones the user chose. Cells read as the
spreadsheet shows them (a zero-padded number format keeps its leading zeros); phone numbers
stored as numbers get back the 0 (or +) they lost. Costs are read as Swedish, Danish or English
numbers ("1.250 kr.", "1 250 kr", "12,50") with Babel; times may be a range in one cell
("10.00-11.30", "kl. 10-12"); weekdays may be abbreviated (Må/Ti/On/To/Fr/Lö/Sö, Ma/.../Lø/Sø,
Mon/Tue/...); taxonomy words match names in every language and the terms' synonyms, and an
unknown word gets the closest term as a suggestion.
`suggest_mapping` guesses columns from Swedish, Danish and English headers. `validate_rows` lists
every problem of every row (several per row if need be) with the row number the user sees in the
spreadsheet (header = row 1), and the likely duplicates. No Streamlit, no SQL: the caller passes the
taxonomy and the keys of the activities already in the directory.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import NamedTuple

from domain import validation as v
from domain.taxonomy import fold_label, normalise_label
from domain.validation import FieldError
from locales import LANGUAGES, translate

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_XLSX_UNPACKED = 200 * 1024 * 1024  # zip bombs: the unpacked size of every part of the workbook
MAX_HEADER = 200
MAX_DESCRIPTION = 5000
MAX_PLACES = 100_000
MAX_AGE = 120
MAX_COST = 1_000_000
_SNIFF_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t")

# A cell a spreadsheet would run: "=" followed by anything, or + - @ followed by a letter
# (so +46 40 12 34 56, -3 and 55.6 are fine, =HYPERLINK(...), +cmd and @SUM(...) are not).
_FORMULA_RE = re.compile(r"^(?:=.|[+\-@][^\W\d_])", re.DOTALL)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LIST_SPLIT_RE = re.compile(r"[,;|\n]+")


class InventoryError(ValueError):
    """The file as a whole cannot be used; `key` is a locale key, `params` fill its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# --- Reading ------------------------------------------------------------------------------------


@dataclass
class RawTable:
    """The cells of a file as text. `rows[i]` is spreadsheet row `header_row + 1 + i`; blank rows
    inside the data are kept (as empty lists) so the numbering matches what the user sees."""

    headers: list[str]
    rows: list[list[str]]
    encoding: str
    header_row: int = 1
    delimiter: str | None = None  # None for XLSX
    sheets: list[str] = field(default_factory=list)  # XLSX: every sheet's name, in order
    sheet: str | None = None  # XLSX: the sheet read
    # (index in rows, column) of XLSX cells stored as numbers: a phone there may have lost its 0.
    numeric: frozenset[tuple[int, int]] = frozenset()

    def row_number(self, index: int) -> int:
        return self.header_row + 1 + index


def read_table(
    data: bytes, filename: str, *, sheet: str | None = None, header_row: int | None = None
) -> RawTable:
    """The cells of a CSV or XLSX file; InventoryError for anything that is not a usable table.

    `sheet` (XLSX) and `header_row` (the spreadsheet's row number, 1 = first) choose where the
    table is; None finds them: the sheet and row whose headings name the most Lotsa fields."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InventoryError("import.error.unreadable")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise InventoryError("import.error.too_large", mb=MAX_BYTES // (1024 * 1024))
    if not data.strip():
        raise InventoryError("import.error.empty")
    name = str(filename or "").strip().lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or extension in ("xls", "ods", "numbers"):
        raise InventoryError("import.error.format_unsupported")
    if header_row is not None and (not isinstance(header_row, int) or not 1 <= header_row <= MAX_ROWS):
        raise InventoryError("import.error.header_row", row=str(header_row)[:20])
    if data[:4] == b"PK\x03\x04" or extension in ("xlsx", "xlsm"):
        return _read_xlsx(data, sheet, header_row)
    return _read_csv(data, header_row)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if b"\x00" in data:
            raise InventoryError("import.error.not_text")
        candidates = ["utf-8", "windows-1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise InventoryError("import.error.encoding")
    controls = len(_CONTROL_RE.findall(text))
    if "\x00" in text or (controls > 2 and controls > len(text) / 100):
        raise InventoryError("import.error.not_text")
    return text, encoding


def _sniff(text: str) -> str:
    """The delimiter that splits the first rows into the most, and most regular, columns."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", (False, -1, -1)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if _filled(r)]
        except csv.Error:
            continue
        rows = rows[:50]
        if not rows:
            continue
        width = len(rows[0])
        score = (width > 1, sum(1 for r in rows if len(r) == width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


MAX_FIELD_CHARS = 131_072  # the csv module's default field limit: no real cell comes near it


def _read_csv(data: bytes, header_row: int | None = None) -> RawTable:
    text, encoding = _decode(data)
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for record in reader:
            if len(rows) > MAX_ROWS + 1000:
                raise InventoryError("import.error.too_many_rows", n=MAX_ROWS)
            if any(len(field) > MAX_FIELD_CHARS for field in record):
                # an unclosed quote swallows the rest of the file into one field; the csv module's own
                # limit is process-global (other libraries raise it), so it is checked here
                raise csv.Error("field larger than field limit")
            rows.append(record[: MAX_COLUMNS + 1])
    except csv.Error:
        raise InventoryError("import.error.csv_malformed", line=reader.line_num) from None
    table = _table(rows, encoding, header_row)
    table.delimiter = delimiter
    return table


def _read_xlsx(data: bytes, sheet: str | None = None, header_row: int | None = None) -> RawTable:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception:
        raise InventoryError("import.error.xlsx_unreadable") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise InventoryError("import.error.too_large", mb=MAX_BYTES // (1024 * 1024))
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise InventoryError("import.error.xlsx_unreadable") from None
    try:
        if not workbook.worksheets:
            raise InventoryError("import.error.empty")
        names = list(workbook.sheetnames)
        if sheet is not None:
            if sheet not in names:
                shown = ", ".join(names)
                raise InventoryError("import.error.sheet_missing", sheet=str(sheet)[:60], sheets=shown)
            chosen = sheet
        else:
            chosen = _best_sheet(workbook, names, header_row)
        rows, numeric = _sheet_rows(workbook[chosen])
    except InventoryError:
        raise
    except Exception:
        raise InventoryError("import.error.xlsx_unreadable") from None
    finally:
        workbook.close()
    table = _table(rows, "xlsx", header_row)
    first = table.header_row  # rows[first + i] is data row i
    table.numeric = frozenset((r - first, c) for r, c in numeric if r >= first)
    table.sheets, table.sheet = names, chosen
    return table


def _sheet_rows(ws, limit: int | None = None) -> tuple[list[list[str]], set[tuple[int, int]]]:
    """A sheet's cells as text (at most `limit` rows), and where the numbers were."""
    rows: list[list[str]] = []
    numeric: set[tuple[int, int]] = set()
    blank = 0  # blank rows not yet kept: formatted but empty rows at the end are never kept
    ws.reset_dimensions()  # the stored size is often wrong (cut data, or a million empty rows)
    for cells in ws.iter_rows():
        texts, numbers = [], []
        for column, cell in enumerate(cells[: MAX_COLUMNS + 1]):
            value = getattr(cell, "value", None)
            texts.append(_cell_text(value, getattr(cell, "number_format", None)))
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                numbers.append(column)
        if not _filled(texts):
            blank += 1
            continue
        if len(rows) + blank >= MAX_ROWS + 1000:
            raise InventoryError("import.error.too_many_rows", n=MAX_ROWS)
        rows.extend([] for _ in range(blank))
        blank = 0
        numeric.update((len(rows), c) for c in numbers)
        rows.append(texts)
        if limit is not None and len(rows) >= limit:
            break
    return rows, numeric


def _best_sheet(workbook, names: list[str], header_row: int | None) -> str:
    """The sheet whose header names the most fields (all required ones first); the first on ties."""
    best, best_score = names[0], (-1, -1)
    for name in names:
        rows, _numeric = _sheet_rows(workbook[name], limit=_HEADER_SCAN)
        if header_row is not None:
            candidates = [rows[header_row - 1]] if header_row <= len(rows) else []
        else:
            candidates = rows
        score = max((_header_score(row) for row in candidates), default=(-1, -1))
        if score > best_score:
            best, best_score = name, score
    return best


def _cell_text(value: object, number_format: str | None = None) -> str:
    """A spreadsheet value as the text a person would type: 12 not 12.0, dates as YYYY-MM-DD, and
    a number in a zero-padded format ("0000000000") with its leading zeros, as the sheet shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, (int, float, Decimal)) and number_format and re.fullmatch(r"0+", number_format):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and number >= 0:
            return str(int(number)).zfill(len(number_format))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        number = float(value)
        if not math.isfinite(number):
            return ""
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if isinstance(value, datetime):
        if value.date() in (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)):
            return value.strftime("%H:%M")  # a time of day stored as a date-time
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(value)


def _filled(cells: Iterable[object]) -> bool:
    return any(str(c).strip() for c in cells if c is not None)


def _clean_header(value: object) -> str:
    text = _CONTROL_RE.sub("", str(value or "")).replace("\ufeff", "")
    return " ".join(text.split())[:MAX_HEADER]


_HEADER_SCAN = 30  # rows searched for the header (title rows and notes above it)


def _header_score(row: list[str]) -> tuple[int, int]:
    """(all required fields named, how many fields named) for a candidate header row."""
    headers = [_clean_header(h) for h in row if str(h).strip()]
    if not headers or all(_looks_like_data(h) for h in headers):
        return (-1, -1)
    mapped = {k for k, v in suggest_mapping(headers).items() if v is not None}
    return (int(all(k in mapped for k in REQUIRED_FIELDS)), len(mapped))


def _table(rows: list[list[str]], encoding: str, header_row: int | None = None) -> RawTable:
    if header_row is not None:
        start = header_row - 1
        if start >= len(rows) or not _filled(rows[start]):
            raise InventoryError("import.error.header_row", row=header_row)
    else:
        # The first row with a letter or digit in it (not just ";;" or "---") ...
        texts = [i for i, row in enumerate(rows) if any(re.search(r"\w", str(c)) for c in row)]
        if not texts:
            raise InventoryError("import.error.empty")
        # ... unless a later one (below a title or a note) names more fields.
        start, best = texts[0], _header_score(rows[texts[0]])
        for i in texts[1:_HEADER_SCAN]:
            score = _header_score(rows[i])
            if score > best:
                start, best = i, score
    headers = [_clean_header(h) for h in rows[start]]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise InventoryError("import.error.too_many_columns", n=MAX_COLUMNS)
    if all(_looks_like_data(h) for h in headers if h):
        raise InventoryError("import.error.no_header")
    data = rows[start + 1 :]
    while data and not _filled(data[-1]):
        data.pop()
    if not data:
        raise InventoryError("import.error.no_rows")
    if len(data) > MAX_ROWS:
        raise InventoryError("import.error.too_many_rows", n=MAX_ROWS)
    width = len(headers)
    cells = [
        [str(c) for c in row[:width]] + [""] * (width - len(row)) if _filled(row) else [] for row in data
    ]
    return RawTable(headers=headers, rows=cells, encoding=encoding, header_row=start + 1)


def _looks_like_data(header: str) -> bool:
    """A header of only numbers, dates, times or e-mail addresses: the file has no header row."""
    return bool(re.fullmatch(r"[\d\s.,:/+\-]+", header)) or bool(v.EMAIL_RE.match(header))


# --- Fields and mapping -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One Lotsa import field: how its cells are read, and the headers that usually mean it."""

    key: str
    kind: str
    required: bool = False
    max_length: int = 300
    taxonomy: str | None = None

    @property
    def synonyms(self) -> tuple[str, ...]:
        return _SYNONYMS.get(self.key, ())


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# Headers that usually mean a field (Swedish, Danish, English), compared after `normalise`.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": _words(
        "Namn|Navn|Name|Aktivitet|Aktiviteten|Aktivitetens namn|Aktivitetens navn|Aktivitetsnamn"
        "|Aktivitetsnavn|Activity|Activity name|Titel|Title|Benämning"
    ),
    "description": _words(
        "Beskrivning|Beskrivelse|Description|Om aktiviteten|About|Information|Info|Detaljer|Details"
        "|Text|Fritext"
    ),
    "organization": _words(
        "Organisation|Organization|Organisationens namn|Organisationens navn|Förening"
        "|Föreningens namn|Forening|Foreningens navn|Arrangör|Arrangør|Organizer|Organiser"
        "|Anordnare|Huvudman|Ansvarig organisation|Provider|Udbyder|Aktör|Aktør|Association|Klubb"
        "|Klub|Club"
    ),
    "category": _words(
        "Kategori|Kategorier|Category|Categories|Typ|Type|Aktivitetstyp|Aktivitetstype"
        "|Typ av aktivitet|Type of activity"
    ),
    "target_groups": _words(
        "Målgrupp|Målgrupper|Målgruppe|Target group|Target groups|Audience|För vem|For hvem|For whom"
    ),
    "accessibility": _words(
        "Tillgänglighet|Tilgængelighed|Accessibility|Handikappanpassning|Tillgängligt|Accessible"
        "|Handicapvenlig"
    ),
    "languages": _words("Språk|Sprog|Language|Languages|Talade språk|Talte sprog"),
    "attending_type": _words(
        "Form|Format|Deltagande|Deltagelse|Mötesform|Mødeform|Attending|Attending type|Attendance"
        "|Mode|Genomförande|Online eller på plats|Online eller fysisk|Fysisk eller online"
        "|In person or online"
    ),
    "url": _words(
        "Webb|Webbplats|Webbadress|Hemsida|Länk|Link|URL|Website|Web|Hjemmeside|Webside|Webadresse"
        "|Online link|Möteslänk|Mødelink"
    ),
    "street": _words(
        "Adress|Gatuadress|Adresse|Address|Street|Street address|Gata|Gatunamn|Gade|Vej|Vejnavn"
        "|Besöksadress|Besøgsadresse|Address line 1"
    ),
    "postal_code": _words("Postnummer|Postnr|Post nr|Postal code|Postcode|Post code|Zip|Zip code"),
    "city": _words("Ort|Postort|By|Bynavn|Postdistrikt|City|Town|Stad"),
    "latitude": _words("Lat|Latitud|Latitude|Breddgrad|Breddegrad"),
    "longitude": _words("Lon|Lng|Long|Longitud|Longitude|Längdgrad|Længdegrad"),
    "weekdays": _words(
        "Veckodag|Veckodagar|Dag|Dagar|Ugedag|Ugedage|Dage|Day|Days|Weekday|Weekdays|Mötesdag|Mødedag"
    ),
    "opens_at": _words(
        "Starttid|Från|Fra|Från kl|Fra kl|Tid från|Tid fra|Börjar|Begynder|Starter|Opens|Opens at"
        "|From|Start time|Starttidspunkt|Begins"
    ),
    "closes_at": _words(
        "Sluttid|Till|Til|Till kl|Til kl|Tid till|Tid til|Slutar|Slutter|Closes|Closes at|To"
        "|End time|Sluttidspunkt|Ends"
    ),
    "times": _words(
        "Tid|Tider|Tidpunkt|Klockslag|Klockan|Kl|Tidspunkt|Tidsrum|Klokken|Time|Times|Hours"
        "|Mötestid|Mødetid|Tid (från-till)|Tid (fra-til)|Time (from-to)|Öppettider|Åbningstider"
        "|Opening hours"
    ),
    "start_date": _words(
        "Startdatum|Startdato|Start date|Första tillfället|Første gang|Kursstart|Från datum"
        "|Fra dato|Date from|Datum från|Dato fra"
    ),
    "end_date": _words(
        "Slutdatum|Slutdato|End date|Sista tillfället|Sidste gang|Till datum|Til dato|Date to"
        "|Datum till|Dato til"
    ),
    "rolling_start": _words(
        "Löpande start|Løbende start|Løbende optag|Löpande intag|Rolling start|Start när som helst"
        "|Start når som helst|Start any time|Drop in"
    ),
    "is_free": _words("Gratis|Kostnadsfri|Kostnadsfritt|Free|Is free|Free of charge"),
    "cost": _words("Kostnad|Avgift|Pris|Price|Cost|Fee|Betaling|Deltagaravgift|Deltagerbetaling|Kontingent"),
    "contact_name": _words(
        "Kontaktperson|Kontakt|Contact|Contact person|Contact name|Kontaktpersonens namn"
        "|Kontaktpersonens navn|Ansvarig|Ansvarlig|Ledare|Leder|Leader"
    ),
    "contact_phone": _words(
        "Telefon|Tel|Tlf|Telefonnummer|Telefonnr|Phone|Phone number|Telephone|Mobil|Mobilnummer"
        "|Mobile|Kontakt telefon|Kontaktperson telefon|Contact phone"
    ),
    "contact_email": _words(
        "E-post|Epost|E-postadress|Mail|E-mail|Email|Mejl|Mailadresse|E-mailadresse|Kontakt e-post"
        "|Kontakt e-mail|Contact email|Contact e-mail"
    ),
    "free_places": _words(
        "Lediga platser|Ledige pladser|Free places|Available places|Available|Lediga|Ledige"
        "|Platser kvar|Pladser tilbage|Places left"
    ),
    "max_places": _words(
        "Max antal|Max deltagare|Antal platser|Platser|Pladser|Antal pladser|Max places"
        "|Maximum places|Capacity|Kapacitet|Max deltagere|Maks deltagere|Maks antal"
    ),
    "minimum_age": _words(
        "Minimiålder|Min ålder|Lägsta ålder|Ålder från|Från ålder|Minimumsalder|Min alder|Alder fra"
        "|Minimum age|Min age|Age from"
    ),
    "maximum_age": _words(
        "Maxålder|Max ålder|Högsta ålder|Ålder till|Till ålder|Maksimumsalder|Maks alder|Max alder"
        "|Alder til|Maximum age|Max age|Age to"
    ),
    "eligibility": _words(
        "Vem kan delta|Villkor|Behörighet|Förutsättningar|Hvem kan deltage|Hvem kan være med"
        "|Betingelser|Eligibility|Who can join|Requirements|Krav"
    ),
}

_SPECS = (
    FieldSpec("name", "text", required=True),
    FieldSpec("description", "text", max_length=MAX_DESCRIPTION),
    FieldSpec("organization", "text", required=True),
    FieldSpec("category", "terms", required=True, max_length=1000, taxonomy="category"),
    FieldSpec("target_groups", "terms", max_length=1000, taxonomy="target_group"),
    FieldSpec("accessibility", "terms", max_length=1000, taxonomy="accessibility"),
    FieldSpec("languages", "terms", max_length=1000, taxonomy="language"),
    FieldSpec("attending_type", "attending"),
    FieldSpec("url", "url", max_length=500),
    FieldSpec("street", "text"),
    FieldSpec("postal_code", "postal_code", max_length=16),
    FieldSpec("city", "text", max_length=120),
    FieldSpec("latitude", "latitude"),
    FieldSpec("longitude", "longitude"),
    FieldSpec("weekdays", "weekdays", max_length=200),
    FieldSpec("opens_at", "clock"),
    FieldSpec("closes_at", "clock"),
    FieldSpec("times", "time_range", max_length=40),
    FieldSpec("start_date", "date"),
    FieldSpec("end_date", "date"),
    FieldSpec("rolling_start", "yes_no"),
    FieldSpec("is_free", "yes_no"),
    FieldSpec("cost", "cost"),
    FieldSpec("contact_name", "text", max_length=200),
    FieldSpec("contact_phone", "phone", max_length=40),
    FieldSpec("contact_email", "email", max_length=200),
    FieldSpec("free_places", "places"),
    FieldSpec("max_places", "places"),
    FieldSpec("minimum_age", "age"),
    FieldSpec("maximum_age", "age"),
    FieldSpec("eligibility", "text", max_length=2000),
)
FIELDS: dict[str, FieldSpec] = {spec.key: spec for spec in _SPECS}
REQUIRED_FIELDS = tuple(spec.key for spec in _SPECS if spec.required)
# When a header is not an exact synonym: the first field (in this order) one of whose synonyms it
# contains wins, so "Kontaktperson telefon" is the phone and "Organisationens namn" the organisation.
_FUZZY_ORDER = (
    "contact_phone", "contact_email", "contact_name", "free_places", "max_places", "minimum_age",
    "maximum_age", "start_date", "end_date", "rolling_start", "postal_code", "street", "city",
    "latitude", "longitude", "weekdays", "opens_at", "closes_at", "times", "organization", "category",
    "target_groups", "accessibility", "languages", "attending_type", "url", "is_free", "cost",
    "eligibility", "description", "name",
)  # fmt: skip


def normalise(value: object) -> str:
    """Lower case, no accents or punctuation, single spaces: 'Postnr.' -> 'postnr', 'Ålder' -> 'alder'."""
    text = str(value)
    return _normalise(text) if len(text) <= 200 else _normalise.__wrapped__(text)


@lru_cache(maxsize=50_000)
def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("æ", "ae").replace("ø", "o").replace("ß", "ss").replace("đ", "d")
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@cache
def _synonym_index() -> tuple[dict[str, str], dict[str, tuple[tuple[str, ...], ...]]]:
    exact: dict[str, str] = {}
    words: dict[str, tuple[tuple[str, ...], ...]] = {}
    for spec in _SPECS:
        names = [
            spec.key,
            *spec.synonyms,
            *(translate(f"import.field.{spec.key}", lang) for lang in LANGUAGES),
        ]
        normalised = [n for n in dict.fromkeys(normalise(name) for name in names) if n]
        for name in normalised:
            exact.setdefault(name, spec.key)
        words[spec.key] = tuple(tuple(n.split()) for n in normalised)
    return exact, words


def _contains(header: list[str], synonym: tuple[str, ...]) -> bool:
    size = len(synonym)
    for start in range(len(header) - size + 1):
        window = header[start : start + size]
        if window[:-1] != list(synonym[:-1]):
            continue
        last, wanted = window[-1], synonym[-1]
        if last == wanted or (len(wanted) >= 4 and (last.startswith(wanted) or last.endswith(wanted))):
            return True
    return False


def suggest_mapping(headers: Iterable[str]) -> dict[str, str | None]:
    """Field -> the header that most likely holds it (None if none does). Each header is used once."""
    headers = [str(h) for h in headers]
    exact, words = _synonym_index()
    mapping: dict[str, str | None] = dict.fromkeys(FIELDS)
    used: set[int] = set()
    for index, header in enumerate(headers):
        key = exact.get(normalise(header))
        if key and mapping[key] is None:
            mapping[key] = header
            used.add(index)
    for key in _FUZZY_ORDER:
        if mapping[key] is not None:
            continue
        for index, header in enumerate(headers):
            if index in used:
                continue
            tokens = normalise(header).split()
            if tokens and any(_contains(tokens, synonym) for synonym in words[key]):
                mapping[key] = header
                used.add(index)
                break
    return mapping


# --- Taxonomy ---------------------------------------------------------------------------------------

@dataclass
class TermLookup:
    """How the words of one taxonomy are matched: `keys` (normalised code, name in any language or
    synonym -> code) and `labels` (every name and synonym as written -> code, for suggestions)."""

    keys: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def find(self, word: str) -> str | None:
        for key in _term_keys(word):
            code = self.keys.get(key)
            if code is not None:
                return code
        return None

    def suggest(self, word: str) -> str | None:
        """The closest name or synonym (difflib), or None when nothing is close."""
        by_key: dict[str, str] = {}
        for label in self.labels:
            by_key.setdefault(normalise(label), label)
        wanted = normalise(word)
        close = difflib.get_close_matches(wanted, list(by_key), n=1, cutoff=0.6)
        if close:
            return by_key[close[0]]
        # A word of a longer name ("Motion" -> "Motion och träning"): the shortest such name.
        words = set(wanted.split())
        within = [k for k in by_key if words and words <= set(k.split())]
        return by_key[min(within, key=len)] if within else None


TaxonomyLookup = Mapping[str, TermLookup]


def _term_keys(label: str) -> tuple[str, ...]:
    """Exact (casefolded, Å/Ä/Ö/Æ/Ø kept), then without diacritics, then without punctuation."""
    return tuple(dict.fromkeys(k for k in (normalise_label(label), fold_label(label), normalise(label)) if k))


def build_taxonomy_lookup(terms: Iterable[Sequence]) -> dict[str, TermLookup]:
    """taxonomy -> TermLookup, from (taxonomy, code, name_sv, name_da, name_en[, synonyms]) rows.
    Codes win over names, names over synonyms; a word two terms share matches neither."""
    terms = [tuple(t) for t in terms]
    lookup: dict[str, TermLookup] = {}
    first: dict[tuple[str, str], tuple[int, str]] = {}
    ambiguous: set[tuple[str, str]] = set()
    for rank in (0, 1, 2):  # codes, then names, then synonyms
        for taxonomy, code, *rest in terms:
            names, synonyms = rest[:3], (rest[3] if len(rest) > 3 else None) or ()
            labels = (code,) if rank == 0 else names if rank == 1 else synonyms
            entry = lookup.setdefault(taxonomy, TermLookup())
            for label in labels:
                if not label:
                    continue
                if rank:
                    entry.labels.setdefault(str(label), code)
                for key in _term_keys(str(label)):
                    seen = first.setdefault((taxonomy, key), (rank, code))
                    if seen[1] != code and seen[0] == rank:
                        ambiguous.add((taxonomy, key))
    for (taxonomy, key), (_rank, code) in first.items():
        if (taxonomy, key) not in ambiguous:
            lookup[taxonomy].keys[key] = code
    return lookup


# --- Rows ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRow:
    """One row that passed every check, in Lotsa's terms (codes, dates, times, numbers)."""

    row: int
    name: str
    organization: str
    categories: tuple[str, ...]
    description: str = ""
    target_groups: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    attending_type: str = "in_person"
    url: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    weekdays: tuple[str, ...] = ()
    opens_at: time | None = None
    closes_at: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    rolling_start: bool = False
    is_free: bool = True
    cost: float | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    free_places: int | None = None
    max_places: int | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility: str | None = None

    @property
    def address(self) -> str:
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        return ", ".join(p for p in (self.street, place) if p)

    def duplicate_key(self) -> tuple[str, str]:
        return duplicate_key(self.name, self.street, self.city, self.url)


def duplicate_key(
    name: str | None, street: str | None = None, city: str | None = None, url: str | None = None
) -> tuple[str, str]:
    """(name, where) as compared for likely duplicates: same normalised name at the same street and
    city or, for activities without an address, the same web address."""
    where = " | ".join(normalise(p) for p in (street, city) if p and normalise(p))
    if not where and url:
        where = normalise(re.sub(r"^https?://(www\.)?", "", url.strip().lower()).rstrip("/"))
    return normalise(name or ""), where


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row, the user's column header, locale key and its parameters."""

    row: int
    column: str
    key: str
    params: dict = field(default_factory=dict)
    field: str = ""


class Duplicate(NamedTuple):
    """A likely duplicate: `other` is the earlier row of the file or, when `existing`, the id of
    the activity already in the directory."""

    row: int
    other: int
    name: str
    address: str
    existing: bool = False


@dataclass
class Preview:
    valid: list[ActivityRow]
    errors: list[RowError]
    duplicates: list[Duplicate]
    rows_read: int = 0

    @property
    def error_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


_ATTENDING_WORDS = {
    "in_person": (
        "in person", "in_person", "in-person", "on site", "onsite", "physical", "på plats", "plats",
        "fysisk", "fysiskt", "fysisk träff", "fremmøde", "fysisk fremmøde", "på stedet", "lokalt",
        "personligen", "personligt",
    ),
    "online": (
        "online", "digital", "digitalt", "digitala", "distans", "på distans", "webb", "virtual",
        "virtuel", "virtuell", "internet", "videomöte", "videomøde",
    ),
    "hybrid": (
        "hybrid", "både och", "både på plats och online", "på plats och online", "på plats och digitalt",
        "fysiskt och online", "begge", "begge dele", "fremmøde og online", "fysisk og online", "both",
        "in person and online", "blandet",
    ),
}  # fmt: skip
_ATTENDING = {normalise(w): code for code, words in _ATTENDING_WORDS.items() for w in words}
_YES = {normalise(w) for w in ("ja", "j", "yes", "y", "1", "true", "sant", "sand", "x", "gratis", "free")}
_NO = {
    normalise(w) for w in ("nej", "n", "no", "0", "false", "falskt", "falsk", "avgift", "betaling", "paid")
}
_NO_COST = {normalise(w) for w in ("gratis", "free", "fri", "kostnadsfri", "kostnadsfritt", "ingen", "none")}
_DASHES = {"-", "–", "—"}


def _text(spec: FieldSpec, raw: str) -> str | None:
    return v.text(raw, required=spec.required, max_length=spec.max_length)


def _terms(spec: FieldSpec, raw: str, lookup: TaxonomyLookup) -> tuple[str, ...]:
    cleaned = _text(spec, raw)
    if cleaned is None:
        return ()
    known = lookup.get(spec.taxonomy or "") or TermLookup()
    codes, unknown = [], []
    for part in _LIST_SPLIT_RE.split(cleaned):
        if not normalise(part):
            continue
        code = known.find(part)
        if code is None:
            unknown.append(part.strip()[:60])
        elif code not in codes:
            codes.append(code)
    if unknown:
        value = ", ".join(unknown[:5])
        suggestions = [x for x in dict.fromkeys(known.suggest(word) for word in unknown[:5]) if x]
        if suggestions:
            key = f"import.error.unknown_{spec.taxonomy}_suggest"
            raise FieldError(key, value=value, suggestion=", ".join(suggestions))
        raise FieldError(f"import.error.unknown_{spec.taxonomy}", value=value)
    if spec.required and not codes:
        raise FieldError("error.required")
    return tuple(codes)


def _attending(spec: FieldSpec, raw: str) -> str:
    cleaned = v.text(raw, max_length=100)
    if cleaned is None:
        return "in_person"
    code = _ATTENDING.get(normalise(cleaned))
    if code is None:
        raise FieldError("import.error.attending_unknown", value=cleaned[:60])
    return code


def _url(spec: FieldSpec, raw: str) -> str | None:
    cleaned = v.text(raw, max_length=spec.max_length)
    if cleaned and cleaned.lower().startswith("www."):
        cleaned = "https://" + cleaned
    return v.url(cleaned)


def _postal_code(spec: FieldSpec, raw: str) -> str | None:
    cleaned = v.text(raw, max_length=spec.max_length)
    if cleaned is not None and not re.fullmatch(r"(?:[A-Za-z]{1,3}[- ]?)?\d[\d ]{2,9}", cleaned):
        raise FieldError("import.error.postal_code")
    return cleaned


def _coordinate(key: str, raw: str) -> float | None:
    check = v.latitude if key == "latitude" else v.longitude
    try:
        return check(v.text(raw, max_length=40))
    except FieldError as exc:
        if exc.key == "error.out_of_range":
            raise FieldError(f"import.error.{key}_range") from None
        raise


# Two-letter and other short forms v.weekdays does not know: sv Må/Ti/On/To/Fr/Lö/Sö,
# da Ma/Ti/On/To/Fr/Lø/Sø, en Tues/Thur/Thurs/Weds; and words for several days.
_DAY_WORDS: dict[str, tuple[str, ...]] = {
    "må": ("MO",), "ma": ("MO",), "ti": ("TU",), "on": ("WE",), "to": ("TH",), "fr": ("FR",),
    "lö": ("SA",), "lø": ("SA",), "sö": ("SU",), "sø": ("SU",), "tues": ("TU",), "thur": ("TH",),
    "thurs": ("TH",), "weds": ("WE",),
    "vardagar": v.WEEKDAYS[:5], "vardag": v.WEEKDAYS[:5], "hverdage": v.WEEKDAYS[:5],
    "hverdag": v.WEEKDAYS[:5], "weekdays": v.WEEKDAYS[:5], "helger": v.WEEKDAYS[5:],
    "helg": v.WEEKDAYS[5:], "weekend": v.WEEKDAYS[5:], "weekends": v.WEEKDAYS[5:],
    "weekender": v.WEEKDAYS[5:], "alla dagar": v.WEEKDAYS, "alle dage": v.WEEKDAYS,
    "every day": v.WEEKDAYS, "dagligen": v.WEEKDAYS, "dagligt": v.WEEKDAYS, "daily": v.WEEKDAYS,
}  # fmt: skip
_FILLER = {"varje", "hver", "every", "each", "alla", "alle", "på", "on the"}
_DAY_RANGE_RE = re.compile(
    r"([^\W\d_]+)\.?\s*(?:[-–—]|\s(to|till|til|through|tom|t\.o\.m\.)\s)\s*([^\W\d_]+)\.?", re.IGNORECASE
)


def _day(token: str) -> tuple[str, ...] | None:
    token = token.strip().lower().rstrip(".:")
    if not token:
        return ()
    if token in _DAY_WORDS:
        return _DAY_WORDS[token]
    try:
        days = v.weekdays(token)
    except FieldError:
        return None
    return days if len(days) == 1 else None


def _weekdays(spec: FieldSpec, raw: str) -> tuple[str, ...]:
    cleaned = v.text(raw, max_length=spec.max_length)
    if cleaned is None:
        return ()
    text = cleaned.lower()
    for phrase in ("alla dagar", "alle dage", "every day"):
        text = text.replace(phrase, " dagligen ")

    def expand(match: re.Match) -> str:
        first, word, last = match.group(1), match.group(2), match.group(3)
        if word and (len(first) < 3 or len(last) < 3):
            return match.group(0)  # "Må to Fr" lists Monday, Thursday and Friday
        a, b = _day(first), _day(last)
        if not a or not b or len(a) != 1 or len(b) != 1:
            return match.group(0)
        i, j = v.WEEKDAYS.index(a[0]), v.WEEKDAYS.index(b[0])
        days = v.WEEKDAYS[i : j + 1] if i <= j else v.WEEKDAYS[i:] + v.WEEKDAYS[: j + 1]
        return " " + " ".join(d.lower() for d in days) + " "

    # "mån-fre", "Ma–Fr", "Monday to Friday", "mån t.o.m. fre": every day from the first to the last.
    text = _DAY_RANGE_RE.sub(expand, text)
    codes: list[str] = []
    for token in re.split(r"[,;/+&\s]+|\boch\b|\bog\b|\band\b|\bsamt\b", text):
        token = token.strip().rstrip(".:")
        if not token or token in _FILLER:
            continue
        days = _day(token)
        if days is None:
            raise FieldError("error.weekday_unknown", value=token[:40])
        codes.extend(d for d in days if d not in codes)
    return tuple(sorted(codes, key=v.WEEKDAYS.index))


_CLOCK_PART = r"(\d{1,2}(?:[:.]\d{2})?)"
_KL = r"(?:(?:kl|klockan|klokken|at|from|från|fra)\.?\s*)?"
_TIME_RANGE_RE = re.compile(
    rf"{_KL}{_CLOCK_PART}\s*(?:[-–—]|till|til|to|until)\s*{_KL}{_CLOCK_PART}\.?", re.IGNORECASE
)


def _time_range(spec: FieldSpec, raw: str) -> tuple[time | None, time | None] | None:
    """ "10.00-11.30", "10–11.30", "kl. 10-12", "10:00 till 11:30", or one time ("kl. 10")."""
    cleaned = v.text(raw, max_length=spec.max_length)
    if cleaned is None:
        return None
    match = _TIME_RANGE_RE.fullmatch(cleaned)
    try:
        if match:
            return v.clock(match.group(1)), v.clock(match.group(2))
        single = re.fullmatch(rf"{_KL}{_CLOCK_PART}\.?", cleaned, flags=re.IGNORECASE)
        if single:
            return v.clock(single.group(1)), None
    except FieldError:
        pass
    raise FieldError("import.error.time_range")


def _clock(spec: FieldSpec, raw: str) -> time | tuple[time | None, time | None] | None:
    """A time of day; a range in the cell ("10.00-11.30") gives (opens, closes)."""
    cleaned = v.text(raw, max_length=20)
    if cleaned is None:
        return None
    if _TIME_RANGE_RE.fullmatch(cleaned):
        return _time_range(spec, cleaned)
    cleaned = re.sub(r"^(?:kl|klockan|klokken)\.?\s*", "", cleaned, flags=re.IGNORECASE)
    cleaned = re.sub(r"^(\d{1,2}[:.]\d{2})[:.]00$", r"\1", cleaned)  # 10:00:00
    return v.clock(cleaned)


def _date(spec: FieldSpec, raw: str) -> date | None:
    cleaned = v.text(raw, max_length=30)
    if cleaned is None:
        return None
    try:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", cleaned)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        match = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", cleaned)
        if match:  # 2.3.2026, 02/03/2026, 2-3-2026: day first, as in Sweden and Denmark
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", cleaned)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        pass
    raise FieldError("error.date_format")


def _yes_no(spec: FieldSpec, raw: str) -> bool | None:
    cleaned = v.text(raw, max_length=20)
    if cleaned is None:
        return None
    token = normalise(cleaned)
    if token in _YES:
        return True
    if token in _NO or cleaned in _DASHES:
        return False
    raise FieldError("import.error.yes_no")


_NUMBER_LOCALES = {"sv": "sv_SE", "da": "da_DK", "en": "en_GB"}
_CURRENCY_RE = re.compile(
    r"(?i)^\s*(?:kr\.?|sek|dkk|eur|€|kronor|kroner)?\s*(.*?)\s*(?:kr\.?|sek|dkk|eur|€|kronor|kroner|:-|,-|\.-)?\s*$"
)


def parse_amount(text: str, lang: str = "sv") -> float:
    """A money amount as people write it in Sweden, Denmark or the UK: "1.250" (da) and "1 250"
    (sv) are 1250, "12,50" and "12.50" are 12.5, "1,250.50" (en) is 1250.5. Read with Babel in the
    user's locale first, then the other two; a reading with more than two decimals (not a price)
    is passed over for one that has two or fewer. ValueError when no locale reads it."""
    from babel.numbers import NumberFormatError, parse_decimal

    text = re.sub(r"(?<=\d)[ \u202f](?=\d{3}\b)", "\u00a0", text.strip())  # sv/fr thousands
    order = [lang, *(x for x in _NUMBER_LOCALES if x != lang)]
    fallback = None
    for code in order:
        locale = _NUMBER_LOCALES.get(code)
        if locale is None:
            continue
        try:
            number = parse_decimal(text, locale=locale, strict=True)
        except (NumberFormatError, ValueError, ArithmeticError):
            continue
        if not number.is_finite():
            continue
        if -number.as_tuple().exponent <= 2:
            return float(number)
        fallback = fallback if fallback is not None else float(number)
    if fallback is None:
        raise ValueError(text)
    return fallback


def _cost(spec: FieldSpec, raw: str, lang: str = "sv") -> float | None:
    cleaned = v.text(raw, max_length=40)
    if cleaned is None:
        return None
    if normalise(cleaned) in _NO_COST or cleaned in _DASHES:
        return 0.0
    amount = _CURRENCY_RE.fullmatch(cleaned)
    number = amount.group(1) if amount else cleaned
    try:
        value = parse_amount(number, lang)
    except ValueError:
        raise FieldError("error.number") from None
    return v.decimal(value, minimum=0, maximum=MAX_COST)


def _phone(spec: FieldSpec, raw: str, *, numeric: bool = False, postal_code: str = "") -> str | None:
    """A phone number; digits only without the leading 0 (a spreadsheet kept it as a number) get
    it back: 9 or 7 digits are Swedish (0701234567), 8 digits are Danish unless the cell was a
    number and the row's postal code is Swedish (5 digits); 46/45 + a full number gets its +."""
    cleaned = v.text(raw, max_length=spec.max_length)
    if cleaned is not None and re.fullmatch(r"[1-9]\d{6,11}", cleaned):
        digits, swedish_post = len(cleaned), bool(re.fullmatch(r"\d{3} ?\d{2}", postal_code.strip()))
        if (digits == 11 and cleaned.startswith("46")) or (digits == 10 and cleaned.startswith("45")):
            cleaned = "+" + cleaned
        elif digits in (7, 9) or (digits == 8 and numeric and swedish_post):
            cleaned = "0" + cleaned
    return v.phone(cleaned)


def _integer(raw: str, maximum: int) -> int | None:
    cleaned = v.text(raw, max_length=20)
    if cleaned is not None and re.fullmatch(r"\d+[.,]0+", cleaned):
        cleaned = re.split(r"[.,]", cleaned)[0]
    return v.integer(cleaned, minimum=0, maximum=maximum)


def _parse(
    spec: FieldSpec,
    raw: str,
    lookup: TaxonomyLookup,
    *,
    lang: str = "sv",
    numeric: bool = False,
    postal_code: str = "",
) -> object:
    kind = spec.kind
    if kind == "text":
        return _text(spec, raw)
    if kind == "terms":
        return _terms(spec, raw, lookup)
    if kind == "attending":
        return _attending(spec, raw)
    if kind == "url":
        return _url(spec, raw)
    if kind == "postal_code":
        return _postal_code(spec, raw)
    if kind in ("latitude", "longitude"):
        return _coordinate(kind, raw)
    if kind == "weekdays":
        return _weekdays(spec, raw)
    if kind == "clock":
        return _clock(spec, raw)
    if kind == "time_range":
        return _time_range(spec, raw)
    if kind == "date":
        return _date(spec, raw)
    if kind == "yes_no":
        return _yes_no(spec, raw)
    if kind == "cost":
        return _cost(spec, raw, lang)
    if kind == "phone":
        return _phone(spec, raw, numeric=numeric, postal_code=postal_code)
    if kind == "email":
        return v.email(v.text(raw, max_length=spec.max_length))
    if kind == "places":
        return _integer(raw, MAX_PLACES)
    if kind == "age":
        return _integer(raw, MAX_AGE)
    raise AssertionError(kind)  # pragma: no cover


def is_formula(value: object) -> bool:
    """True for a cell a spreadsheet would run as a formula (=..., +cmd, -cmd, @SUM...)."""
    text = str(value).strip()
    if not text or ("\x20" <= text[0] < "\x7f" and text[0] not in "=+-@"):
        return False  # the usual case, without regular expressions
    return bool(_FORMULA_RE.match(_CONTROL_RE.sub("", text).strip()))


def _columns(table: RawTable, mapping: Mapping[str, str | None], lang: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for key, header in (mapping or {}).items():
        if key not in FIELDS:
            raise InventoryError("import.error.unknown_field", field=str(key)[:60])
        if header is None or header == "":
            continue
        try:
            columns[key] = table.headers.index(str(header))
        except ValueError:
            raise InventoryError("import.error.column_missing", column=str(header)[:60]) from None
    missing = [key for key in REQUIRED_FIELDS if key not in columns]
    if missing:
        labels = ", ".join(translate(f"import.field.{key}", lang) for key in missing)
        raise InventoryError("import.error.required_unmapped", fields=labels)
    return columns


def validate_rows(
    table: RawTable,
    mapping: Mapping[str, str | None],
    taxonomy_lookup: TaxonomyLookup,
    *,
    lang: str = "sv",
    existing: Mapping[tuple[str, str], int] | None = None,
) -> Preview:
    """Every problem of every row, the rows that passed, and the likely duplicates (within the file,
    and against `existing`: duplicate_key -> id of an activity already in the directory)."""
    columns = _columns(table, mapping, lang)
    order = sorted(columns, key=lambda key: (columns[key], list(FIELDS).index(key)))
    valid: list[ActivityRow] = []
    errors: list[RowError] = []
    rows_read = 0
    for index, cells in enumerate(table.rows):
        if not _filled(cells):
            continue
        rows_read += 1
        check = _RowCheck(table.row_number(index), table.headers, columns)
        values: dict[str, object] = {}
        postal = cells[columns["postal_code"]] if "postal_code" in columns else ""
        for key in order:
            spec, raw = FIELDS[key], cells[columns[key]]
            if is_formula(raw):
                check.fail(key, "import.error.formula")
                continue
            try:
                values[key] = _parse(
                    spec,
                    raw,
                    taxonomy_lookup,
                    lang=lang,
                    numeric=(index, columns[key]) in table.numeric,
                    postal_code=postal,
                )
            except FieldError as exc:
                check.fail(key, exc.key, **exc.params)
        _spread_times(values, check)
        _cross_checks(values, check)
        if check.errors:
            errors.extend(check.errors)
        else:
            valid.append(_activity(check.number, values))
    return Preview(valid, errors, find_duplicates(valid, existing or {}), rows_read)


class _RowCheck:
    """The problems of one row; an error on an unmapped field is shown in the nearest mapped column."""

    def __init__(self, number: int, headers: list[str], columns: dict[str, int]) -> None:
        self.number, self.headers, self.columns = number, headers, columns
        self.errors: list[RowError] = []
        self.bad: set[str] = set()

    def fail(self, key: str, message: str, /, *, near: tuple[str, ...] = (), **params: object) -> None:
        target = next((k for k in (key, *near) if k in self.columns), None)
        header = self.headers[self.columns[target]] if target is not None else ""
        self.errors.append(RowError(self.number, header, message, params, key))
        self.bad.add(key)


def _spread_times(values: dict[str, object], check: _RowCheck) -> None:
    """A time range (in the times column, or in the start-time column) -> opens_at and closes_at."""
    ranges = [("times", values.pop("times", None))]
    for key in ("opens_at", "closes_at"):
        if isinstance(values.get(key), tuple):
            ranges.append((key, values.pop(key)))
    for key, span in ranges:
        if not span:
            continue
        opens, closes = span
        for name, value in (("opens_at", opens), ("closes_at", closes)):
            if value is None:
                continue
            if values.get(name) is None:
                values[name] = value
            elif values[name] != value:
                check.fail(name, "import.error.times_conflict", near=(key,))


def _cross_checks(values: dict[str, object], check: _RowCheck) -> None:
    get, bad, fail = values.get, check.bad, check.fail
    if get("attending_type") in ("online", "hybrid") and not get("url") and "url" not in bad:
        fail("url", "import.error.url_required", near=("attending_type",))
    for one, other in (("latitude", "longitude"), ("longitude", "latitude")):
        if get(one) is not None and get(other) is None and other not in bad:
            fail(other, "import.error.coordinates_pair", near=(one,))
    opens, closes = get("opens_at"), get("closes_at")
    if opens is not None and closes is not None and closes <= opens:
        fail("closes_at", "import.error.closes_before_opens")
    if closes is not None and opens is None and "opens_at" not in bad:
        fail("opens_at", "import.error.opens_missing", near=("closes_at",))
    if opens is not None and not get("weekdays") and "weekdays" not in bad and not get("rolling_start"):
        fail("weekdays", "import.error.weekdays_missing", near=("opens_at",))
    start, end = get("start_date"), get("end_date")
    if start is not None and end is not None and end < start:
        fail("end_date", "import.error.end_before_start")
    free, maximum = get("free_places"), get("max_places")
    if free is not None and maximum is not None and free > maximum:
        fail("free_places", "import.error.free_over_max")
    low, high = get("minimum_age"), get("maximum_age")
    if low is not None and high is not None and low > high:
        fail("maximum_age", "import.error.age_order")
    cost = get("cost")
    if get("is_free") is True and cost:
        fail("cost", "import.error.free_with_cost")
    if get("street") and not get("city") and "city" not in bad:
        fail("city", "import.error.city_missing", near=("street",))


def _activity(number: int, values: dict[str, object]) -> ActivityRow:
    get = values.get
    cost = get("cost")
    is_free = get("is_free")
    if is_free is None:
        is_free = not cost
    return ActivityRow(
        row=number,
        name=get("name"),
        organization=get("organization"),
        categories=get("category") or (),
        description=get("description") or "",
        target_groups=get("target_groups") or (),
        accessibility=get("accessibility") or (),
        languages=get("languages") or (),
        attending_type=get("attending_type") or "in_person",
        url=get("url"),
        street=get("street"),
        postal_code=get("postal_code"),
        city=get("city"),
        latitude=get("latitude"),
        longitude=get("longitude"),
        weekdays=get("weekdays") or (),
        opens_at=get("opens_at"),
        closes_at=get("closes_at"),
        start_date=get("start_date"),
        end_date=get("end_date"),
        rolling_start=bool(get("rolling_start")),
        is_free=bool(is_free),
        cost=cost if cost else None,
        contact_name=get("contact_name"),
        contact_phone=get("contact_phone"),
        contact_email=get("contact_email"),
        free_places=get("free_places"),
        max_places=get("max_places"),
        minimum_age=get("minimum_age"),
        maximum_age=get("maximum_age"),
        eligibility=get("eligibility"),
    )


def find_duplicates(rows: Iterable[ActivityRow], existing: Mapping[tuple[str, str], int]) -> list[Duplicate]:
    """Rows whose name and address match an activity already in the directory or an earlier row."""
    seen: dict[tuple[str, str], int] = {}
    duplicates: list[Duplicate] = []
    for row in rows:
        key = row.duplicate_key()
        if key in existing:
            duplicates.append(Duplicate(row.row, existing[key], row.name, row.address, True))
        elif key in seen:
            duplicates.append(Duplicate(row.row, seen[key], row.name, row.address, False))
        seen.setdefault(key, row.row)
    return duplicates
