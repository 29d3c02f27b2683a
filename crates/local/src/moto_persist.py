"""bodyline's moto launcher: moto_server with its state kept on disk across its own deaths.

moto keeps its state in memory. This launcher wraps moto's WSGI app: every successful mutating
request (not GET/HEAD, not a Describe/Get/List/Head action) is appended to <state>/changes.jsonl
(its WSGI environ and body) *before* its response is sent, so a change a client saw succeed is
on disk (in the page cache: it survives the death of this process, not of the machine). On
start the log is replayed in-process, in order, with IAM enforcement off (the requests were
authorised when first made), and the access keys and session tokens moto generates while
replaying are pinned to the ones it first handed out, so every client's credentials stay valid.
Then enforcement is armed at once (a restored moto grants no unauthenticated calls).

moto's own recorder (MOTO_ENABLE_RECORDING) cannot do this: it records before the request runs
(failures and reads too) and replays over HTTP with the signatures on, where the replayed
CreateAccessKey makes a new random key and every later signed request is refused.

What could not be replayed (a non-2xx answer, an unreadable line) is written to
<state>/restore.json for `bodyline local up` and `status` to report.

Usage: python moto_persist.py --state DIR --fd N  (N: an inherited listening socket)
"""

import argparse
import base64
import io
import json
import os
import re
import sys
import threading
import time
from urllib.parse import parse_qs

READ_ACTIONS = ("Describe", "Get", "List", "Head")
# Reads by name, but they hand out credentials that later requests are signed with.
CREDENTIAL_ACTIONS = ("GetSessionToken", "GetFederationToken")
KEY_FIELDS = {
    "id": re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>"),
    "secret": re.compile(rb"<SecretAccessKey>([^<]+)</SecretAccessKey>"),
    "token": re.compile(rb"<SessionToken>([^<]+)</SessionToken>"),
}

# While replaying one request: the credentials it first handed out.
PINNED = {}


def pin_generated_credentials():
    from moto.iam.models import AccessKey
    from moto.sts.models import AssumedRole

    key_init = AccessKey.__init__
    role_init = AssumedRole.__init__

    def pinned_key_init(self, *args, **kwargs):
        key_init(self, *args, **kwargs)
        if PINNED.get("id"):
            self.access_key_id = PINNED["id"]
            self.secret_access_key = PINNED.get("secret", self.secret_access_key)

    def pinned_role_init(self, *args, **kwargs):
        role_init(self, *args, **kwargs)
        if PINNED.get("token"):
            self.session_token = PINNED["token"]

    AccessKey.__init__ = pinned_key_init
    AssumedRole.__init__ = pinned_role_init


def read_body(environ):
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def action_of(environ, body):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("latin-1"))
        if "Action" in form:
            return form["Action"][0]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    return None


def is_mutating(environ, body):
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return False
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    action = action_of(environ, body)
    if action is None:
        return True
    return action in CREDENTIAL_ACTIONS or not action.startswith(READ_ACTIONS)


def credentials_in(body):
    found = {}
    if b"<AccessKeyId>" in body:
        for name, pattern in KEY_FIELDS.items():
            match = pattern.search(body)
            if match:
                found[name] = match.group(1).decode("utf-8")
    return found


class Persist:
    """The WSGI middleware that logs successful mutating requests before answering them."""

    def __init__(self, app, log_path):
        self.app = app
        self.lock = threading.Lock()
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def __call__(self, environ, start_response):
        body = read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if not is_mutating(environ, body):
            return self.app(environ, start_response)
        recorded = {
            k: v
            for k, v in environ.items()
            if isinstance(v, str) and not k.startswith(("wsgi.", "werkzeug."))
        }
        answer = {}

        def capture(status, headers, exc_info=None):
            answer["status"] = status
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        try:
            chunks = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status = answer.get("status", "500")
        if status[:1] == "2":
            entry = {
                "environ": recorded,
                "body": base64.b64encode(body).decode("ascii"),
            }
            keys = credentials_in(b"".join(chunks))
            if keys:
                entry["keys"] = keys
            line = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
            with self.lock:
                os.write(self.fd, line)
        return chunks


def replay(app, log_path):
    """Replays the log into `app`; returns (replayed, failures)."""
    from moto.core.authorization import disable_iam_authentication

    if not os.path.exists(log_path):
        return 0, []
    replayed = 0
    failures = []
    with open(log_path, "rb") as log:
        lines = log.read().split(b"\n")
    with disable_iam_authentication():
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                body = base64.b64decode(entry["body"])
            except (ValueError, KeyError) as err:
                # A torn last line is a request whose answer never went out: not a loss.
                if number < len(lines) - 1:
                    failures.append({"line": number, "problem": f"unreadable entry: {err}"})
                continue
            environ = dict(entry["environ"])
            environ.update(
                {
                    "wsgi.input": io.BytesIO(body),
                    "wsgi.errors": sys.stderr,
                    "wsgi.version": (1, 0),
                    "wsgi.url_scheme": "http",
                    "wsgi.multithread": False,
                    "wsgi.multiprocess": False,
                    "wsgi.run_once": False,
                    "wsgi.input_terminated": True,
                }
            )
            PINNED.clear()
            PINNED.update(entry.get("keys", {}))
            answer = {}

            def capture(status, headers, exc_info=None, answer=answer):
                answer["status"] = status
                return lambda data: None

            try:
                result = app(environ, capture)
                for _ in result:
                    pass
                if hasattr(result, "close"):
                    result.close()
                status = answer.get("status", "500")
            except Exception as err:  # noqa: BLE001 - reported, never fatal
                status = f"exception {err!r}"
            finally:
                PINNED.clear()
            replayed += 1
            if status[:1] != "2":
                failures.append(
                    {
                        "line": number,
                        "request": f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}",
                        "action": action_of(environ, body),
                        "problem": status,
                    }
                )
    return replayed, failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True)
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()

    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    os.makedirs(args.state, exist_ok=True)
    log_path = os.path.join(args.state, "changes.jsonl")
    app = DomainDispatcherApplication(create_backend_app)
    pin_generated_credentials()
    began = time.monotonic()
    replayed, failures = replay(app, log_path)
    report = {
        "replayed": replayed,
        "failures": failures,
        "seconds": round(time.monotonic() - began, 3),
    }
    report_path = os.path.join(args.state, "restore.json")
    with open(report_path + ".tmp", "w") as out:
        json.dump(report, out)
    os.replace(report_path + ".tmp", report_path)
    if replayed:
        # The administrator exists again: no unauthenticated calls for anyone.
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
    print(f"bodyline moto: replayed {replayed} change(s) in {report['seconds']}s, {len(failures)} failed", flush=True)

    server = make_server("127.0.0.1", 0, Persist(app, log_path), threaded=True, fd=args.fd)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
