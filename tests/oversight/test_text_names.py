"""Names in free text: the columnar search (word pieces in Arrow) finds exactly what the
per-match Aho-Corasick path finds, on awkward names and texts; the alias cache under threads."""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from custodes.oversight.masking import MaskRun
from custodes.oversight.policy import load_policy
from custodes.oversight.pseudonyms import Pseudonymiser

AWKWARD_ROSTER = {
    "employee_id": ["E100", "E200", "E300", "E400"],
    "first_name": ["John", "Ann", "Zoe", "Li"],
    "last_name": ["Smith", "O'Brien (Contractor)", "Olund", "Wu"],
    "email": ["john.smith@agency.gov", "-ann-@agency.gov", "zoe.o@agency.gov", "li.wu@agency.gov"],
    "account": ["jsmith", "a.obrien.", "zolund", "liwu_"],
}
FRAGMENTS = [
    "jsmith", "JSMITH", "john.smith@agency.gov", "John Smith", "john  smith", "a.obrien.",
    "a.obrien", "-ann-@agency.gov", "Ann O'Brien (Contractor)", "ann o'brien", "zolund",
    "zoe.o@agency.gov", "Zoe Olund", "liwu_", "liwu", "li wu", "E100", "e200x", "newhire",
    "C:\\Users\\", "\\", "/", " ", ".", "@", "-", "_", "(", ")", ",", "'", "x", "1", "smith",
]  # fmt: skip


def awkward_masker(tmp_path: Path) -> Pseudonymiser:
    folder = tmp_path / "data"
    (folder / "reference").mkdir(parents=True)
    pq.write_table(pa.table(AWKWARD_ROSTER), folder / "reference" / "people.parquet")
    return Pseudonymiser.for_data_dir(folder, load_policy(folder).identifiers)


def random_texts(rng: random.Random, count: int) -> list[str]:
    texts = {"".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 9))) for _ in range(count)}
    return sorted(texts)


def test_columnar_search_finds_what_the_per_match_search_finds(tmp_path: Path) -> None:
    masker = awkward_masker(tmp_path)
    rng = random.Random(7)
    for _ in range(40):
        run = MaskRun(masker, frozenset({masker.pseudonym("zolund")}))
        run.extra = {"newhire"}  # learnt from an identifier column
        names = run.finder()
        assert names is not None
        texts = random_texts(rng, 60)
        expected = run.replace_names(list(texts)) or texts
        columnar = run.replace_ascii(names, pa.array(texts, pa.string()))
        found = texts if columnar is None else columnar.to_pylist()
        assert found == expected


def test_names_with_punctuation_at_their_edges_and_inside_are_found(tmp_path: Path) -> None:
    masker = awkward_masker(tmp_path)
    table = pa.table(
        {
            "message": [
                "by Ann O'Brien (Contractor), then a.obrien. and -ann-@agency.gov",
                "john smith|li wu;liwu_ but not liwu_x nor xjsmith nor a.obrienx",
            ]
        }
    )
    first, second = masker.mask(table).table.column("message").to_pylist()
    ann, john, li = (masker.pseudonym(name) for name in ("a.obrien.", "jsmith", "liwu_"))
    assert first == f"by {ann}, then {ann} and {ann}"
    assert second == f"{john}|{li};{li} but not liwu_x nor xjsmith nor a.obrienx"


def test_alias_cache_stays_in_step_when_threads_add_values_at_once(tmp_path: Path) -> None:
    masker = awkward_masker(tmp_path)
    values = [f"user{i}" if i % 3 else "SYSTEM" for i in range(3000)]
    failures: list[str] = []

    def look_up(part: list[str]) -> None:
        aliases = masker.aliases(pa.array(part, pa.string())).to_pylist()
        for value, alias in zip(part, aliases, strict=True):
            wanted = masker.pseudonym(value) if masker.is_person(value) else None
            if alias != wanted:
                failures.append(value)

    threads = [threading.Thread(target=look_up, args=(values[i::6],)) for i in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as under load
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not failures
    assert masker.aliases(pa.array(values, pa.string())).null_count == 1000
