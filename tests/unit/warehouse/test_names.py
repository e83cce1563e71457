"""Dataset and version names become folder names and URL segments: checked to their very end."""

import pytest

from campus.errors import BadRequest
from campus.warehouse import layout, service


@pytest.mark.parametrize("name", ["hospital\n", "Hospital", "-hospital", "", "a" * 64, "h/x"])
def test_a_dataset_name_outside_the_allowed_characters_is_refused(tmp_path, name):
    with pytest.raises(BadRequest) as refused:
        service.check_name(name)
    assert refused.value.where == "dataset"
    with pytest.raises(ValueError, match="dataset name"):
        layout.dataset_dir(tmp_path, name)


def test_a_folder_whose_name_only_starts_like_a_version_is_not_one(tmp_path):
    for name in ("v0001", "v0002\n", "v12", "v0003x"):
        (tmp_path / "d" / "versions" / name).mkdir(parents=True)
    assert [v.version for v in layout.versions(tmp_path, "d")] == ["v0001"]
