"""The page's words for a service's message (config.web.forms.page_words): wire names become
the labels of the form that shows them, wire instants the page's dates; the API's own
message is not changed."""

from django import forms

from config.web.forms import ServiceForm, page_words, utc_datetime_field


class EndForm(ServiceForm):
    ending_before = utc_datetime_field("Ends before")
    wire_labels = {"start_at": "From"}


def test_wire_names_become_the_forms_labels_or_the_shared_words():
    form = EndForm()
    assert page_words(form, "ending_before must be after starting_at") == (
        "“Ends before” must be after “Start”"
    )
    assert page_words(form, "Give exactly one of package_id or package_alias.") == (
        "Give exactly one of “Package” or “Alias”."
    )
    assert page_words(form, "start_at is in the past") == "“From” is in the past"


def test_symbols_instants_and_capitals_read_as_words():
    form = forms.Form()
    assert page_words(form, "price must be >= 0") == "Price must be at least 0"
    assert page_words(form, "No package at 2027-01-01T00:00:00Z") == "No package at 2027-01-01"
    assert page_words(form, "Ends at 2027-01-01T09:30:00.000Z") == "Ends at 2027-01-01T09:30Z"
    # a quoted name the user typed is theirs, not a wire name
    assert page_words(form, "The alias 'starting_at' is unknown") == (
        "The alias 'starting_at' is unknown"
    )
