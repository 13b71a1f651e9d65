"""`procore_catalog.picker` on its own: which groups a bill's picker shows, in which order, how many
options it leaves out, and how a search and the limit change that."""

from __future__ import annotations

import pytest

from syncapp.dashboard.procore_catalog import Choice, picker

ACME, OTHER = 501, 502


def choice(project_id: int | None, project: str, commitment_id: int, number: str, vendor_id: int | None) -> Choice:
    return Choice(f"{project_id}:{commitment_id}:", f"{project} · {number}", vendor_id, project_id, project, number)


CHOICES = [
    choice(5, "Harbour Tower", 70, "SC-070", ACME),
    choice(5, "Harbour Tower", 71, "SC-071", OTHER),
    choice(6, "Riverside", 80, "SC-080", ACME),
    choice(6, "Riverside", 81, "SC-081", OTHER),
    choice(7, "Airport", 90, "SC-090", OTHER),
    choice(None, "riverside", 95, "SC-095", ACME),
]


def shown(result) -> list[tuple[str, list[str]]]:
    return [(group.label, [c.value for c in group.choices]) for group in result.groups]


def test_a_known_vendor_shows_its_commitments_on_the_bills_project_first_and_counts_the_others():
    result = picker(CHOICES, vendor_id=ACME, vendor_name="Acme", project_id=6, query="")
    assert shown(result) == [
        ("Acme: on this bill's project", ["6:80:"]),
        ("Acme: other projects", ["5:70:", "None:95:"]),
    ]
    assert (result.hidden, result.shown, result.query) == (3, 3, "")


def test_the_bills_project_is_matched_by_id_or_by_name_ignoring_case_and_spaces():
    result = picker(CHOICES, vendor_id=ACME, project_id=6, project_name="  RIVERSIDE ")
    assert shown(result)[0] == ("The vendor: on this bill's project", ["6:80:", "None:95:"])
    by_name = picker(CHOICES, vendor_id=ACME, project_name="Harbour tower")
    assert shown(by_name)[0] == ("The vendor: on this bill's project", ["5:70:"])


def test_a_search_reaches_other_vendors_and_hides_nothing():
    result = picker(CHOICES, vendor_id=ACME, vendor_name="Acme", project_id=6, query="SC-08")
    assert shown(result) == [("Acme: on this bill's project", ["6:80:"]), ("Other vendors", ["6:81:"])]
    assert result.hidden == 0


def test_an_unknown_vendor_shows_every_commitment_by_project():
    result = picker(CHOICES, vendor_id=None, project_id=5)
    assert shown(result) == [
        ("On this bill's project", ["5:70:", "5:71:"]),
        ("Other projects", ["6:80:", "6:81:", "7:90:", "None:95:"]),
    ]
    assert result.hidden == 0


def test_empty_groups_are_left_out():
    result = picker(CHOICES, vendor_id=None, query="090")
    assert shown(result) == [("Other projects", ["7:90:"])]


@pytest.mark.parametrize(
    ("limit", "groups", "hidden"),
    [
        (1, [("On this bill's project", ["5:70:"])], 5),
        (2, [("On this bill's project", ["5:70:", "5:71:"])], 4),
        (3, [("On this bill's project", ["5:70:", "5:71:"]), ("Other projects", ["6:80:"])], 3),
        (0, [], 6),
    ],
)
def test_the_limit_cuts_the_groups_in_order_and_counts_what_it_cut(limit, groups, hidden):
    result = picker(CHOICES, vendor_id=None, project_id=5, limit=limit)
    assert (shown(result), result.hidden) == (groups, hidden)


def test_the_limit_adds_to_the_other_vendors_left_out():
    result = picker(CHOICES, vendor_id=ACME, project_id=6, limit=2)
    assert shown(result) == [
        ("The vendor: on this bill's project", ["6:80:"]),
        ("The vendor: other projects", ["5:70:"]),
    ]
    assert result.hidden == 3 + 1


def test_a_searched_other_vendor_group_is_cut_by_the_limit_too():
    result = picker(CHOICES, vendor_id=ACME, query="sc-0", limit=4)
    assert shown(result) == [
        ("The vendor: other projects", ["5:70:", "6:80:", "None:95:"]),
        ("Other vendors", ["5:71:"]),
    ]
    assert result.hidden == 2
