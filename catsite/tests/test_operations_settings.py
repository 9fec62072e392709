"""The operations settings refuse nonsense at start-up, with a message that says what to do."""
import pytest

from catsite.tests.test_settings import manage, production_env


@pytest.mark.parametrize("name, value, says", [
    ("LOG_FORMAT", "yaml", "LOG_FORMAT is 'yaml': use plain or json"),
    ("MODEL_SHADOW_RATE", "1.5", "MODEL_SHADOW_RATE is 1.5: use a share between 0 and 1"),
])
def test_a_bad_value_stops_the_start_with_a_clear_message(tmp_path, name, value, says):
    result = manage("check", tmp_path=tmp_path, **production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and says in result.stderr


def test_good_values_start(tmp_path):
    result = manage("check", tmp_path=tmp_path, **production_env(
        LOG_FORMAT="json", MODEL_SHADOW_RATE="0.1"))
    assert result.returncode == 0, result.stderr
