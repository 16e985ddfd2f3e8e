"""Password policy: long enough, not blank or trivial, not the username, not a common password.

Common passwords come from a list shipped locally, so nothing is sent anywhere: the 30,000 most
common passwords of the zxcvbn project (MIT licence; its `passwords` frequency list, compiled from
leaked password dumps), plus zxcvbn's estimate of how many guesses the password needs with the
username, the person's name and a few Swedish/Danish words every attacker tries (below) added to its
dictionaries. A password is refused when that estimate is under 10^8 guesses (zxcvbn score below
3). Pure logic, no Streamlit, no SQL.
"""

from __future__ import annotations

from functools import cache

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline slow-hash scenario"

# Words that are on no English list but that Swedish and Danish password guessers try first.
LOCAL_WORDS = (
    "lösenord",
    "losenord",
    "adgangskode",
    "kodeord",
    "hemligt",
    "hemmelig",
    "välkommen",
    "valkommen",
    "velkommen",
    "sommar",
    "sommer",
    "vinter",
    "hösten",
    "hosten",
    "efterår",
    "vår",
    "foraar",
    "forår",
    "januari",
    "februari",
    "januar",
    "februar",
    "sverige",
    "danmark",
    "malmö",
    "malmo",
    "skåne",
    "skane",
    "köpenhamn",
    "københavn",
    "kobenhavn",
    "stockholm",
    "göteborg",
    "goteborg",
    "aarhus",
    "odense",
    "region",
    "kommun",
    "kommune",
    "vårdcentral",
    "vardcentral",
    "lægehus",
    "lotsa",
    "hälsolots",
    "halsolots",
    "sundhed",
    "hälsa",
    "halsa",
    "qwertyuiopå",
    "asdfghjklöä",
    "asdfghjklæø",
)


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(LOCAL_WORDS)


def _stem(password: str) -> str:
    """'Password2026!' -> 'password': the common habit of a word plus digits or signs."""
    stem = password.lower().rstrip("0123456789!?.#*@$%&-_ ")
    return stem.lstrip("0123456789!?.#*@$%&-_ ")


def password_problem(
    password: str, *, username: str = "", names: tuple[str, ...] = ()
) -> tuple[str, dict] | None:
    """The first thing wrong with `password`, as (locale key, params), or None if it is acceptable."""
    if not password.strip():
        return ("error.password_blank", {})
    if len(password) < MIN_LENGTH:
        return ("error.password_short", {"n": MIN_LENGTH})
    if len(password) > MAX_LENGTH:
        return ("error.too_long", {"n": MAX_LENGTH})
    if len(set(password)) < 4 or _repeats_a_short_pattern(password):
        return ("error.password_trivial", {})
    lowered = password.lower()
    user = (username or "").strip().lower()
    if user and (user in lowered or (len(user) >= 4 and lowered in user)):
        return ("error.password_contains_username", {})
    common = _common()
    stem = _stem(password)
    if lowered in common or lowered.strip() in common or (len(stem) >= 4 and stem in common):
        return ("error.password_common", {})
    from zxcvbn import zxcvbn

    inputs = [w for w in (user, *(n.lower() for n in names if n)) if w] + list(LOCAL_WORDS)
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < MIN_SCORE:
        return ("error.password_guessable", {})
    return None


def _repeats_a_short_pattern(password: str) -> bool:
    """'abcabcabcabc', 'xyxyxyxyxyxy': a unit of up to 4 characters repeated to the end."""
    for size in range(1, 5):
        unit = password[:size]
        if len(password) >= 2 * size and (unit * (len(password) // size + 1))[: len(password)] == password:
            return True
    return False
