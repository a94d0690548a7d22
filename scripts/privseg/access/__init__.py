"""The right of access (GDPR art. 15, CCPA right to know): everything the warehouse holds about
one person, found through their pseudonym. discovery.py (which tables, from the dbt manifest),
collect.py (what they hold about the subject), facts.py (why, on what basis, for how long, to
whom: the RoPA's facts), cli.py (scripts/subject_access.py)."""
