#!/usr/bin/env python3
"""Stands in for a person at a browser in the sign-in tests: `reliant auth login` runs it as
$BROWSER with the sign-in URL. It loads the page, fills the form's email and password from
FAKE_BROWSER_EMAIL / FAKE_BROWSER_PASSWORD, submits it, and follows the redirect back to the
CLI's loopback listener — what a user's browser does. What it saw goes to FAKE_BROWSER_LOG."""
import html.parser
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class FormReader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def main():
    url = sys.argv[1]
    log = open(os.environ.get("FAKE_BROWSER_LOG", os.devnull), "a")
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    form = FormReader()
    form.feed(page)
    print("page form action:", form.action, "fields:", sorted(form.fields), file=log, flush=True)
    fields = dict(form.fields)
    fields["email"] = os.environ["FAKE_BROWSER_EMAIL"]
    fields["password"] = os.environ["FAKE_BROWSER_PASSWORD"]
    target = urllib.parse.urljoin(url, form.action)
    body = urllib.parse.urlencode(fields).encode()
    try:
        # urllib follows the 303 to http://127.0.0.1:PORT/callback with a GET, as browsers do.
        reply = urllib.request.urlopen(target, data=body, timeout=30)
        print("final:", reply.status, reply.geturl(), file=log, flush=True)
    except urllib.error.HTTPError as e:
        print("refused:", e.code, e.read().decode()[:500], file=log, flush=True)


if __name__ == "__main__":
    main()
