"""Language of a post, offline: lingua's models ship inside its wheel.

Only the languages a Vietnamese province's stream holds are loaded (Vietnamese, English), which
keeps it fast and lets it tell Vietnamese typed without diacritics from English.
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

_CODES = {Language.VIETNAMESE: "vi", Language.ENGLISH: "en"}


@cache
def detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_CODES).with_preloaded_language_models().build()


def detect_language(text: str) -> str:
    """ "vi", "en", or "" when the text holds no words to tell by."""
    if not any(c.isalpha() for c in text):
        return ""
    found = detector().detect_language_of(text)
    return _CODES.get(found, "") if found is not None else ""


def detect_languages(texts: list[str]) -> list[str]:
    """The language of each text (in parallel threads inside lingua)."""
    found = detector().detect_languages_in_parallel_of(texts)
    return [_CODES.get(f, "") if f is not None else "" for f in found]
