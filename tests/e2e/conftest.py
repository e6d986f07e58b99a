"""Browser tests: the `browser` and `page` fixtures live in tests/conftest.py (one Chromium per process)."""

def log_in(page, live_server, email, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


# Every page is served with a Content-Security-Policy that allows no inline code: Chromium reports what it
# blocks as a `securitypolicyviolation` event and a console error naming the "Content Security Policy".
_REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline code") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});"""


def watch_csp(context) -> list[str]:
    """Collect, for every page of this browser context, what the Content-Security-Policy blocked."""
    violations: list[str] = []
    context.add_init_script(_REPORT_CSP_VIOLATIONS)

    def on_console(msg):
        if "Content Security Policy" in msg.text or msg.text.startswith("CSP violation"):
            violations.append(msg.text)

    context.on("console", on_console)
    return violations


def staff_session(context, live_server, user) -> None:
    """Log `user` in for this browser context without going through a login page (admin walk)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    host = live_server.url.split("://", 1)[1].split(":")[0]
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}])
