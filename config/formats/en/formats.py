"""Dates as the rest of the product writes them (ISO 8601, UTC), wherever Django formats one
itself: the admin's lists and change forms, and any `{{ datetime }}` in a template. Without
this the English locale shows "Jan. 15, 2027, midnight". Input formats are Django's (ISO)."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = r"Y-m-d H:i \U\T\C"
TIME_FORMAT = r"H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = r"Y-m-d H:i \U\T\C"
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
FIRST_DAY_OF_WEEK = 1  # Monday (ISO 8601)
