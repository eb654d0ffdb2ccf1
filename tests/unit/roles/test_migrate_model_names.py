"""Registered model names in the migration's read-back (roles/migrate_sqlite/files/mlflow_migrate.py).

verify reads every registered model's versions through the MLflow client on both sides. MLflow
allows any name without ``/`` or ``:``, quotes included, and its filter grammar has no escapes: a
name is put in quotes it does not hold, and a name with both kinds has its versions found among
all versions. The filters are checked with MLflow's own parser, the one its stores use.
"""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import mlflow.exceptions as mlflow_exceptions  # requirements.txt installs MLflow's client for these tests
import pytest
from mlflow.store.entities import paged_list
from mlflow.utils import search_utils

MODULE = Path(__file__).resolve().parents[3] / "roles/migrate_sqlite/files/mlflow_migrate.py"
SPEC = importlib.util.spec_from_file_location("mlflow_migrate", MODULE)
migrate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(migrate)

BOTH_QUOTES = 'bob\'s "best" model'


def _parsed(filter_string):
    return search_utils.SearchModelVersionUtils.parse_search_filter(filter_string)


def _name_is(name):
    return [{"type": "attribute", "key": "name", "comparator": "=", "value": name}]


@pytest.mark.parametrize(
    "name",
    [
        "team-model",
        "bob's model",
        "'quoted'",
        'say "hi"',
        "x AND name = 'y'",
        "back\\slash",
        "ends with a backslash\\",
        "it's a backslash\\",
        "tab\tand ünïcode -- not a comment; %",
    ],
)
def test_the_filter_selects_exactly_that_name(name):
    assert _parsed(migrate.model_name_filter(name)) == _name_is(name)


def test_single_quotes_around_an_apostrophe_are_refused_by_mlflow():
    """What verify did before: every run of the migration failed after the load."""
    with pytest.raises(mlflow_exceptions.MlflowException, match="Invalid clause"):
        _parsed("name = 'bob's model'")


def test_a_doubled_quote_is_not_an_escape_in_mlflow_filters():
    """SQL's '' would be kept as two quotes: it selects another name, silently."""
    assert _parsed("name = 'bob''s model'") != _name_is("bob's model")


def test_a_name_with_both_quote_kinds_has_no_filter():
    assert migrate.model_name_filter(BOTH_QUOTES) is None


class FakeRegistry:
    """search_registered_models and search_model_versions as MLflow's SQL stores answer them:
    the filter parsed by MLflow (a bad one raises), pages of at most ``page_size`` versions."""

    def __init__(self, versions_by_model, page_size=2):
        self.models = [SimpleNamespace(name=name, tags={"k": name}, aliases={}) for name in versions_by_model]
        self.versions = [
            SimpleNamespace(
                name=name, version=str(number), run_id=f"run-{number}", source="s3://b/m", current_stage="None", tags={}
            )
            for name, count in versions_by_model.items()
            for number in range(1, count + 1)
        ]
        self.page_size = page_size
        self.filters = []

    def search_registered_models(self, max_results):
        return self.models[:max_results]

    def search_model_versions(self, filter_string=None, max_results=10000, page_token=None):
        self.filters.append(filter_string)
        matching = self.versions
        for clause in _parsed(filter_string):
            matching = [v for v in matching if clause["key"] == "name" and v.name == clause["value"]]
        start = int(page_token or 0)
        end = start + min(max_results, self.page_size)
        return paged_list.PagedList(matching[start:end], str(end) if end < len(matching) else None)


def _versions(report, name):
    return [version[0] for version in report[name][2]]


def test_every_model_is_read_with_its_own_versions_whatever_its_name():
    registry = FakeRegistry({"team-model": 3, "bob's model": 2, 'say "hi"': 1, BOTH_QUOTES: 3})
    report = migrate._registered_models(registry)
    assert {name: _versions(report, name) for name in report} == {
        "team-model": ["1", "2", "3"],
        "bob's model": ["1", "2"],
        'say "hi"': ["1"],
        BOTH_QUOTES: ["1", "2", "3"],
    }
    assert report["bob's model"][0] == [("k", "bob's model")]
    assert None in registry.filters  # the one listing of every version, for the name no filter can say


def test_models_with_plain_names_are_read_without_listing_every_version():
    registry = FakeRegistry({"team-model": 1, "bob's model": 1})
    migrate._registered_models(registry)
    assert None not in registry.filters
