"""One engine text index with its texts, kept so it can be refitted (the index's writer side only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from matching import TfidfMatcher

# Refit from scratch once this share of the index was added after the last fit,
# so IDF weights do not drift far from the corpus (the engine freezes IDF at fit).
REFIT_SHARE = 0.5
REFIT_MIN = 20


@dataclass
class TextIndex:
    """One engine index with its texts, kept so the index can be refitted (writer side only)."""

    matcher: TfidfMatcher | None = None
    texts: dict[str, str] = field(default_factory=dict)
    fitted_size: int = 0
    added_since_fit: int = 0

    def upsert(self, doc_id: str, text: str) -> None:
        self.texts[doc_id] = text
        if self.matcher is None or self.added_since_fit + 1 > max(REFIT_MIN, REFIT_SHARE * self.fitted_size):
            self.refit()
            return
        self.matcher.add([text], ids=[doc_id])
        self.added_since_fit += 1

    def remove(self, doc_id: str) -> None:
        if self.texts.pop(doc_id, None) is None:
            return
        if self.matcher is not None and doc_id in self.matcher:
            if not self.texts:
                self.matcher = None
            else:
                self.matcher.remove([doc_id])

    def refit(self) -> None:
        if not self.texts:
            self.matcher, self.fitted_size, self.added_since_fit = None, 0, 0
            return
        ids = sorted(self.texts)
        self.matcher = TfidfMatcher().fit([self.texts[i] for i in ids], ids=ids)
        self.fitted_size, self.added_since_fit = len(ids), 0

    def view(self) -> TfidfMatcher | None:
        return self.matcher.view() if self.matcher is not None else None

    @property
    def version(self) -> int:
        return self.matcher.version_ if self.matcher is not None else 0
