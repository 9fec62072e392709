"""API conventions shared by every app: pagination (settings.REST_FRAMEWORK).

Errors leave the API in one shape through ``core.http_errors.api_exception_handler``.
"""
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
