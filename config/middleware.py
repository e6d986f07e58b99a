from django.http import HttpResponseBadRequest


class RejectNulBytesMiddleware:
    """Answer 400 to a URL or query string containing a NUL byte.

    PostgreSQL cannot store or compare strings with NUL, so such a value reaching a filter or a
    search (any admin list, `?q=%00`) would be a server error. No legitimate link carries one.
    Form fields are covered by Django's own ProhibitNullCharactersValidator.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("This address contains a character that isn't allowed (NUL).")
        return self.get_response(request)
