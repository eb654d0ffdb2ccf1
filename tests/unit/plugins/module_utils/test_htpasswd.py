"""Unit tests of the htpasswd logic (parse, plan, render, hashing) behind mlops.mlflow.htpasswd."""

import pytest
from passlib import hash as passlib_hash

from ansible_collections.mlops.mlflow.plugins.module_utils import htpasswd as h

SCHEMES = sorted(h.SCHEMES)


def _file(*entries):
    return h.parse("".join(line + "\n" for line in entries))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_hash_verifies_with_its_scheme(scheme):
    hashed = h.hash_password("s3cret", scheme)
    assert h.scheme_of(hashed) == scheme
    assert h.verifies("s3cret", hashed)
    assert not h.verifies("wrong", hashed)


def test_bcrypt_is_written_as_2y_for_apache_tools():
    assert h.hash_password("pw", "bcrypt").startswith("$2y$10$")


def test_sha512_uses_cheap_default_rounds_not_libpass_default():
    # libpass would use 656000 rounds; nginx pays the cost on every request.
    assert "rounds=" not in h.hash_password("pw", "sha512_crypt").split("$")[2]


def test_bcrypt_2b_written_by_other_tools_verifies():
    hashed = passlib_hash.bcrypt.using(ident="2b", rounds=4).hash("pw")
    assert h.verifies("pw", hashed)


def test_unknown_hash_does_not_verify():
    assert not h.verifies("pw", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")
    assert not h.verifies("pw", "$6$broken")


def test_parse_keeps_comments_and_blank_lines():
    lines = h.parse("# users\n\nalice:$6$x$y\n")
    assert [line.name for line in lines] == [None, None, "alice"]
    assert h.render(lines) == "# users\n\nalice:$6$x$y\n"


def test_entry_comment_nginx_reads_is_kept_when_the_password_verifies():
    # nginx's format: name:hash:comment. The comment is not part of the hash.
    alice = "alice:" + h.hash_password("a", "sha512_crypt") + ":Alice Liddell, ML platform"
    new, added, updated, removed = h.plan(_file(alice), [("alice", "a", "present")])
    assert (added, updated, removed) == ([], [], [])
    assert h.render(new) == alice + "\n"


def test_entry_comment_is_kept_when_the_password_changes():
    alice = "alice:" + h.hash_password("a", "sha512_crypt") + ":on call: week 49"
    new, _added, updated, _removed = h.plan(_file(alice), [("alice", "new", "present")])
    assert updated == ["alice"]
    name, hashed, comment = h.render(new).rstrip("\n").split(":", 2)
    assert (name, comment) == ("alice", "on call: week 49")
    assert h.verifies("new", hashed)


def test_parse_rejects_line_without_colon():
    with pytest.raises(h.HtpasswdError, match="line 2 is not 'name:hash'"):
        h.parse("alice:$6$x$y\ngarbage\n")


def test_parse_rejects_entry_without_hash():
    with pytest.raises(h.HtpasswdError, match="line 1"):
        h.parse("alice:\n")


def test_render_empty_is_empty():
    assert h.render([]) == ""


ALICE = "alice:$apr1$x$y"


@pytest.mark.parametrize("content", [ALICE, ALICE + "\r\n", "# team\r\n" + ALICE + "\r\n\r\n"])
def test_content_after_keeps_a_file_no_user_changed_byte_for_byte(content):
    lines = h.parse(content)
    new, added, updated, removed = h.plan(lines, [("bob", None, "absent")])
    assert h.content_after(content, new, added or updated or removed) == content


def test_content_after_renders_the_file_when_a_user_changed():
    lines = h.parse(ALICE + "\r\n")
    new, added, updated, removed = h.plan(lines, [("alice", None, "absent")], exclusive=False)
    assert removed == ["alice"]
    assert h.content_after(ALICE + "\r\n", new, added or updated or removed) == ""
    new, added, updated, removed = h.plan(h.parse(ALICE), [("bob", "b", "present")])
    content = h.content_after(ALICE, new, added or updated or removed)
    assert content.startswith(ALICE + "\nbob:$6$") and content.endswith("\n")


def test_content_after_renders_a_new_file():
    new, added, _updated, _removed = h.plan([], [("bob", "b", "present")])
    assert h.content_after(None, new, added).startswith("bob:$6$")


@pytest.mark.parametrize("name", ["", "a:b", "a\nb", " alice", "#alice"])
def test_bad_names_are_refused(name):
    with pytest.raises(h.HtpasswdError):
        h.wanted_users({"name": name, "password": "pw", "state": "present"})


@pytest.mark.parametrize("password", ["", None, "a\nb"])
def test_bad_passwords_are_refused(password):
    with pytest.raises(h.HtpasswdError, match="password"):
        h.wanted_users({"name": "alice", "password": password, "state": "present"})


def test_absent_user_needs_no_password():
    assert h.wanted_users({"name": "alice", "password": None, "state": "absent"}) == [("alice", None, "absent")]


def test_duplicate_users_are_refused():
    users = [{"name": "a", "password": "x", "state": "present"}, {"name": "a", "password": "y", "state": "present"}]
    with pytest.raises(h.HtpasswdError, match="twice"):
        h.wanted_users({"users": users})


def test_exclusive_needs_users():
    with pytest.raises(h.HtpasswdError, match="exclusive"):
        h.wanted_users({"name": "a", "password": "x", "state": "present", "exclusive": True})


def test_new_user_is_added_at_the_end():
    lines = _file("# head", "bob:" + h.hash_password("b", "sha512_crypt"))
    new, added, updated, removed = h.plan(lines, [("alice", "a", "present")])
    assert (added, updated, removed) == (["alice"], [], [])
    assert [line.name for line in new] == [None, "bob", "alice"]
    assert h.verifies("a", new[-1].hashed)


def test_existing_user_same_password_is_unchanged():
    bob = "bob:" + h.hash_password("b", "sha512_crypt")
    new, added, updated, removed = h.plan(_file(bob), [("bob", "b", "present")])
    assert (added, updated, removed) == ([], [], [])
    assert h.render(new) == bob + "\n"


def test_new_password_rewrites_only_that_line():
    alice = "alice:" + h.hash_password("a", "sha512_crypt")
    bob = "bob:" + h.hash_password("b", "sha512_crypt")
    new, _added, updated, _removed = h.plan(_file("# c", alice, bob), [("alice", "new", "present")])
    assert updated == ["alice"]
    rendered = h.render(new).splitlines()
    assert rendered[0] == "# c" and rendered[2] == bob
    assert h.verifies("new", new[1].hashed)


def test_scheme_change_rewrites_entry():
    alice = "alice:" + h.hash_password("a", "apr_md5_crypt")
    new, _added, updated, _removed = h.plan(_file(alice), [("alice", "a", "present")], scheme="sha512_crypt")
    assert updated == ["alice"]
    assert h.scheme_of(new[0].hashed) == "sha512_crypt"


def test_explicit_rounds_change_rewrites_entry():
    alice = "alice:" + h.hash_password("a", "bcrypt", rounds=4)
    _new, _added, updated, _removed = h.plan(_file(alice), [("alice", "a", "present")], scheme="bcrypt", rounds=5)
    assert updated == ["alice"]


def test_unset_rounds_keep_existing_cost():
    alice = "alice:" + h.hash_password("a", "bcrypt", rounds=4)
    _new, _added, updated, _removed = h.plan(_file(alice), [("alice", "a", "present")], scheme="bcrypt")
    assert updated == []


def test_on_create_leaves_existing_password():
    alice = "alice:" + h.hash_password("a", "sha512_crypt")
    new, _added, updated, _removed = h.plan(_file(alice), [("alice", "other", "present")], update_password="on_create")
    assert updated == [] and h.render(new) == alice + "\n"


def test_absent_user_is_removed_and_others_kept():
    lines = _file("alice:$6$a$b", "# keep", "bob:$6$c$d")
    new, _added, _updated, removed = h.plan(lines, [("alice", None, "absent")])
    assert removed == ["alice"]
    assert h.render(new) == "# keep\nbob:$6$c$d\n"


def test_absent_missing_user_changes_nothing():
    lines = _file("bob:$6$c$d")
    new, added, updated, removed = h.plan(lines, [("alice", None, "absent")])
    assert (added, updated, removed) == ([], [], []) and h.render(new) == "bob:$6$c$d\n"


def test_exclusive_removes_unlisted_users_keeps_comments():
    alice = "alice:" + h.hash_password("a", "sha512_crypt")
    lines = _file("# team", alice, "bob:$6$c$d")
    users = [("alice", "a", "present"), ("carol", "c", "present")]
    new, added, _updated, removed = h.plan(lines, users, exclusive=True)
    assert removed == ["bob"] and added == ["carol"]
    assert [line.name for line in new] == [None, "alice", "carol"]


def test_duplicate_entries_in_file_are_collapsed():
    alice = "alice:" + h.hash_password("a", "sha512_crypt")
    new, _added, _updated, removed = h.plan(_file(alice, "alice:$6$x$y"), [("alice", "a", "present")])
    assert removed == ["alice"] and len(new) == 1


def test_unknown_scheme_is_refused_before_any_change():
    with pytest.raises(h.HtpasswdError, match="not offered"):
        h.plan([], [("alice", "a", "present")], scheme="md5")


def test_a_password_bcrypt_cannot_hash_is_a_clear_error():
    with pytest.raises(h.HtpasswdError, match="password for user 'alice' is longer than the 72 bytes bcrypt"):
        h.plan([], [("alice", "x" * 73, "present")], scheme="bcrypt")
    new, added, _updated, _removed = h.plan([], [("alice", "x" * 72, "present")], scheme="bcrypt", rounds=4)
    assert added == ["alice"] and h.verifies("x" * 72, new[0].hashed)
    _new, added, _updated, _removed = h.plan([], [("bob", "x" * 100, "present")], scheme="sha512_crypt")
    assert added == ["bob"]


def test_bad_rounds_for_scheme_is_a_clear_error():
    with pytest.raises(h.HtpasswdError, match="rounds"):
        h.hash_password("pw", "bcrypt", rounds=99)


def test_missing_libpass_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(h, "HAS_PASSLIB", False)
    with pytest.raises(h.HtpasswdError, match="libpass"):
        h.hash_password("pw", "sha512_crypt")
