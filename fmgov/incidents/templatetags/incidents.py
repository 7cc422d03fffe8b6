"""``{% incident_clocks as clocks %}``: the open incidents and their time left, for any page that shows them.

A tag rather than a dashboard view change keeps the dashboard's one hunk in its template; one query.
"""

from django import template
from django.utils import timezone

from fmgov.incidents.selectors import clock_of, incidents_on_the_clock

register = template.Library()

#: The dashboard shows the soonest deadlines; the API lists them all.
SHOWN = 10


@register.simple_tag
def incident_clocks(limit: int = SHOWN) -> list[dict]:
    """Each open incident with its deadline and whether it is already overdue, soonest first."""
    now = timezone.now()
    return [clock_of(incident, now) for incident in incidents_on_the_clock()[:limit]]
