"""A school's people are found by id from an index that can never answer from an old list."""

from __future__ import annotations

from bot.config import Settings
from dialogs.services.school import schools
from dialogs.services.school.schools import Person, School


def oakfield(settings: Settings) -> School:
    found = settings.directory.school("oakfield")
    assert found is not None
    return found


def staff(person_id: str, name: str) -> Person:
    return Person(id=person_id, name=name, email=f"{person_id}@oakfield.example")


def test_a_person_is_found_and_a_stranger_is_not(settings: Settings) -> None:
    school = oakfield(settings)
    person = school.person("sam")
    assert person is not None
    assert person.id == "sam"
    assert school.person("nobody") is None


def test_a_school_with_a_new_list_finds_the_new_people_not_the_old(settings: Settings) -> None:
    before = oakfield(settings)
    assert before.person("newcomer") is None
    sam = before.person("sam")
    assert sam is not None
    renamed = sam.model_copy(update={"name": "Sam Renamed"})
    people = (*[p for p in before.people if p.id != "sam"], renamed, staff("newcomer", "New Comer"))
    after = before.model_copy(update={"people": people})
    now_sam, newcomer = after.person("sam"), after.person("newcomer")
    assert now_sam is not None
    assert now_sam.name == "Sam Renamed"
    assert newcomer is not None
    assert before.person("newcomer") is None
    assert before.person("sam") == sam


def test_only_the_last_few_lists_are_kept(settings: Settings) -> None:
    school = oakfield(settings)
    for n in range(200):
        grown = school.model_copy(update={"people": (*school.people, staff(f"p{n}", "P"))})
        assert grown.person(f"p{n}") is not None
    assert len(schools._PEOPLE_INDEXES) <= schools._PEOPLE_INDEXES_KEPT
