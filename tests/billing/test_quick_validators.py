"""The quick email and website checks of the page services accept only what Django's validators accept."""

import pytest
from django.core.validators import EmailValidator, URLValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.validators import PLAIN_EMAIL, PLAIN_MAX_LENGTH, PLAIN_WEBSITE, contact_details_problem


@settings(max_examples=150, deadline=None)
@given(st.from_regex(PLAIN_EMAIL, fullmatch=True).filter(lambda v: len(v) <= PLAIN_MAX_LENGTH))
def test_every_email_the_quick_check_passes_is_one_django_accepts(email):
    EmailValidator()(email)


@settings(max_examples=150, deadline=None)
@given(st.from_regex(PLAIN_WEBSITE, fullmatch=True).filter(lambda v: len(v) <= PLAIN_MAX_LENGTH))
def test_every_website_the_quick_check_passes_is_one_django_accepts(website):
    URLValidator()(website)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"email": "ap@acme"}, "ap@acme is not a valid email address."),
        ({"email": "a..b@acme.example"}, "a..b@acme.example is not a valid email address."),
        ({"website": "https://-acme.example"}, "https://-acme.example is not a valid website address."),
        ({"email": "zoe@bücher.example", "website": "https://bücher.example/ä"}, ""),
    ],
)
def test_values_outside_the_plain_shapes_still_get_django_s_answer(values, reason):
    assert contact_details_problem(values) == reason
