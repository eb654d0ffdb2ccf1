# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Pure htpasswd logic shared by the htpasswd action plugin and its tests.

Parses an htpasswd file into lines, decides which entries change for the wanted users
(verifying existing hashes rather than rewriting them), and renders the file again with every
other line, comment and the order kept. Hashing uses libpass (the maintained passlib fork);
it runs on the controller, so managed hosts need nothing but python3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from passlib import hash as passlib_hash

    HAS_PASSLIB = True
    PASSLIB_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised through the action plugin's error
    passlib_hash = None
    HAS_PASSLIB = False
    PASSLIB_IMPORT_ERROR = exc

# Scheme -> (passlib handler name, prefixes of hashes it produced, default rounds).
# Defaults are chosen for nginx, which verifies the hash on EVERY request (see the module docs).
SCHEMES = {
    "sha512_crypt": ("sha512_crypt", ("$6$",), 5000),
    "sha256_crypt": ("sha256_crypt", ("$5$",), 5000),
    "bcrypt": ("bcrypt", ("$2y$", "$2b$", "$2a$"), 10),
    "apr_md5_crypt": ("apr_md5_crypt", ("$apr1$",), None),
}
DEFAULT_SCHEME = "sha512_crypt"

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True, aliases=["dest"]),
    name=dict(type="str", aliases=["username"]),
    password=dict(type="str", no_log=True),
    users=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            password=dict(type="str", no_log=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
    ),
    exclusive=dict(type="bool", default=False),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    scheme=dict(type="str", default=DEFAULT_SCHEME, choices=sorted(SCHEMES), aliases=["crypt_scheme", "hash_scheme"]),
    rounds=dict(type="int"),
    update_password=dict(type="str", default="always", choices=["always", "on_create"]),
    create=dict(type="bool", default=True),
    mode=dict(type="raw", default="0640"),
    owner=dict(type="str"),
    group=dict(type="str"),
)
MUTUALLY_EXCLUSIVE = [("users", "name"), ("users", "password"), ("users", "state")]
REQUIRED_ONE_OF = [("users", "name")]


class HtpasswdError(Exception):
    """Bad input or an unusable file; the message says what to fix."""


class Line(object):
    """One line of the file: an entry (name, hash and nginx's optional comment) or anything else
    kept verbatim."""

    __slots__ = ("comment", "hashed", "name", "raw")

    def __init__(self, raw, name=None, hashed=None, comment=None):
        self.raw = raw
        self.name = name
        self.hashed = hashed
        self.comment = comment

    def render(self):
        if self.name is None:
            return self.raw
        if self.comment is None:
            return "%s:%s" % (self.name, self.hashed)
        return "%s:%s:%s" % (self.name, self.hashed, self.comment)


def parse(content, path="htpasswd file"):
    """Split file content into Lines; blank lines and # comments are kept as they are."""
    lines = []
    for number, raw in enumerate(content.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            lines.append(Line(raw))
            continue
        name, sep, rest = raw.partition(":")
        # nginx reads "name:hash:comment": the hash ends at the next colon (no hash scheme offered
        # here, nor nginx's {PLAIN}/{SSHA}, writes one), the rest is a comment nginx ignores.
        hashed, comment_sep, comment = rest.partition(":")
        if not sep or not name or not hashed:
            raise HtpasswdError(
                "%s line %d is not 'name:hash' and not a comment; fix or remove it before managing users: %r"
                % (path, number, raw[:40])
            )
        lines.append(Line(raw, name=name, hashed=hashed, comment=comment if comment_sep else None))
    return lines


def render(lines):
    """File content for lines, newline-terminated."""
    if not lines:
        return ""
    return "\n".join(line.render() for line in lines) + "\n"


def content_after(current, new_lines, changed_users):
    """The file's content after the run: ``current`` as it is when no user changed.

    A file that lacks its final newline or has CRLF line endings is no reason to rewrite it (and
    report a change) on every run; it is rendered again (LF, newline-terminated) only when an
    entry is added, updated or removed. ``current`` is None for a file that does not exist.
    """
    if current is not None and not changed_users:
        return current
    return render(new_lines)


def check_name(name):
    if not name:
        raise HtpasswdError("user name is empty")
    if ":" in name or "\n" in name or "\r" in name:
        raise HtpasswdError("user name %r contains ':' or a line break, which the htpasswd format cannot hold" % name)
    if name != name.strip() or name.startswith("#"):
        raise HtpasswdError("user name %r starts with '#' or has surrounding blanks; nginx would not match it" % name)


BCRYPT_MAX_BYTES = 72  # bcrypt ignores the rest; libpass refuses longer passwords


def check_password(name, password):
    if password is None or password == "":
        raise HtpasswdError("password for user %r is empty; give a non-empty password (or state=absent)" % name)
    if "\n" in password or "\r" in password:
        raise HtpasswdError("password for user %r contains a line break" % name)


def _handler(scheme, rounds):
    if not HAS_PASSLIB:
        raise HtpasswdError("libpass is required on the controller for hashing: pip install 'libpass>=1.9'")
    try:
        name, _prefixes, default_rounds = SCHEMES[scheme]
    except KeyError:
        raise HtpasswdError("scheme %r is not offered; use one of %s" % (scheme, ", ".join(sorted(SCHEMES)))) from None
    handler = getattr(passlib_hash, name, None)
    if handler is None:
        raise HtpasswdError("the installed libpass lacks scheme %r" % scheme)
    settings = {}
    wanted_rounds = rounds if rounds is not None else default_rounds
    if wanted_rounds is not None:
        settings["rounds"] = wanted_rounds
    if scheme == "bcrypt":
        # Apache's tools reject $2b$; $2y$ is read by Apache, nginx (libxcrypt) and libpass alike.
        settings["ident"] = "2y"
    try:
        return handler.using(**settings)
    except (ValueError, TypeError) as exc:
        raise HtpasswdError("scheme %s does not accept rounds=%s: %s" % (scheme, wanted_rounds, exc)) from None


def scheme_of(hashed):
    """The offered scheme a hash was made with, or None."""
    for scheme, (_name, prefixes, _rounds) in SCHEMES.items():
        if hashed.startswith(prefixes):
            return scheme
    return None


def hash_password(password, scheme, rounds=None):
    return _handler(scheme, rounds).hash(password)


def verifies(password, hashed):
    """True when hashed is a hash of password under one of the offered schemes."""
    scheme = scheme_of(hashed)
    if scheme is None:
        return False
    handler = getattr(passlib_hash, SCHEMES[scheme][0])
    try:
        return handler.verify(password, hashed)
    except (ValueError, TypeError):
        return False


def _rounds_of(hashed, scheme):
    if scheme == "bcrypt":
        return int(hashed.split("$")[2])
    if scheme in ("sha512_crypt", "sha256_crypt"):
        part = hashed.split("$")[2]
        return int(part[len("rounds=") :]) if part.startswith("rounds=") else 5000
    return None


def wanted_users(params):
    """The (name, password, state) list a task asks for, checked; raises HtpasswdError."""
    if params.get("exclusive") and params.get("users") is None:
        raise HtpasswdError("exclusive=true replaces the whole user set: list it in users")
    if params.get("users") is not None:
        users = [(u["name"], u.get("password"), u.get("state") or "present") for u in params["users"]]
    else:
        users = [(params["name"], params.get("password"), params.get("state") or "present")]
    seen = set()
    for name, password, state in users:
        check_name(name)
        if name in seen:
            raise HtpasswdError("user %r is listed twice" % name)
        seen.add(name)
        if state == "present":
            check_password(name, password)
    return users


def plan(lines, users, scheme=DEFAULT_SCHEME, rounds=None, update_password="always", exclusive=False):  # noqa: S107
    """Apply users to lines. Returns (new_lines, added, updated, removed); lines is not modified."""
    _handler(scheme, rounds)  # fail early on a scheme the library lacks
    if scheme == "bcrypt":
        for name, password, state in users:
            if state == "present" and len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
                raise HtpasswdError(
                    "password for user %r is longer than the %d bytes bcrypt can hash; use a shorter one or"
                    " another scheme" % (name, BCRYPT_MAX_BYTES)
                )
    wanted = dict((name, (password, state)) for name, password, state in users)
    new_lines = []
    present = set()
    added, updated, removed = [], [], []
    for line in lines:
        if line.name is None:
            new_lines.append(line)
            continue
        if line.name in present:  # duplicate entry in the file: nginx uses the first; drop the rest
            removed.append(line.name)
            continue
        entry = wanted.get(line.name)
        if entry is None:
            if exclusive:
                removed.append(line.name)
                continue
            new_lines.append(line)
            present.add(line.name)
            continue
        password, state = entry
        if state == "absent":
            removed.append(line.name)
            continue
        present.add(line.name)
        keep = update_password == "on_create"  # noqa: S105 -- an option value, not a password
        if keep or _is_current(line.hashed, password, scheme, rounds):
            new_lines.append(line)
            continue
        new_lines.append(
            Line(None, name=line.name, hashed=hash_password(password, scheme, rounds), comment=line.comment)
        )
        updated.append(line.name)
    for name, password, state in users:
        if state == "present" and name not in present:
            new_lines.append(Line(None, name=name, hashed=hash_password(password, scheme, rounds)))
            added.append(name)
    return new_lines, added, updated, sorted(set(removed))


def _is_current(hashed, password, scheme, rounds):
    if scheme_of(hashed) != scheme or not verifies(password, hashed):
        return False
    return rounds is None or _rounds_of(hashed, scheme) in (None, rounds)
