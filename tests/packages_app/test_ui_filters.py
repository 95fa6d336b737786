"""The page filters that keep one date format and never show a Python repr."""

import datetime as dt

from packages_app.templatetags.ui import change_text, iso


def test_iso_shows_midnight_as_a_date_and_other_instants_to_the_minute():
    assert iso(dt.datetime(2027, 1, 31, tzinfo=dt.UTC)) == "2027-01-31"
    assert iso("2027-01-31T14:05:09Z") == "2027-01-31T14:05Z"
    assert iso(None) == ""


def test_change_text_writes_recorded_values_in_words():
    assert change_text({}) == "—"
    assert change_text(None) == "—"
    assert change_text({"add_credits": 1, "add_commits": 2}) == "add_credits: 1; add_commits: 2"
    assert change_text(["a", "b"]) == "a, b"
    assert change_text("2027-06-01T00:00:00Z") == "2027-06-01"
    assert change_text({"ending_before": "2027-06-01T12:30:00+00:00"}) == (
        "ending_before: 2027-06-01T12:30Z"
    )
    assert change_text("Starter") == "Starter"
