"""Filter backends that refuse oversized query parameters with a 400.

A 100,000-character search term is not a search: on SQLite it makes LIKE fail
("pattern too complex") and elsewhere it only costs time.
"""

from django import forms
from django_filters import NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter

MAX_SEARCH_LENGTH = 200
MAX_FILTER_VALUE_LENGTH = 500


class BoundedSearchFilter(SearchFilter):
    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if len(value) > MAX_SEARCH_LENGTH:
            raise ValidationError({self.search_param: [f"At most {MAX_SEARCH_LENGTH} characters."]})
        if "\x00" in value:
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        return super().get_search_terms(request)


class BoundedDjangoFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        errors = {
            key: [f"At most {MAX_FILTER_VALUE_LENGTH} characters."]
            for key, values in request.query_params.lists()
            if any(len(v) > MAX_FILTER_VALUE_LENGTH for v in values)
        }
        if errors:
            raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)


class IdFilter(NumberFilter):
    """A filter on an id, including ids kept in JSON (``detail__run``): whole numbers only, else a 400.

    django-filter's NumberFilter takes decimals, and ``4e-144`` compared with a JSON value is a database error.
    """

    field_class = forms.IntegerField
