"""Images uploaded through the VIP into each store come back identical from every glance host;
an import staged on one host is finished by another."""

import json

import pytest
from gl import (
    GLANCE,
    MON,
    STORE_DIR,
    check,
    glance,
    images,
    random_file,
    save_images,
    url,
    wait_for,
)


@pytest.fixture(scope="module")
def uploaded():
    """One random image per store, uploaded through the VIP (kept for the later tests)."""
    data = {}
    for store in ("file", "rbd"):
        path, digest = random_file(f"image-{store}")
        image = glance("create", url(), f"strata-{store}")
        glance("upload", url(), image, path, store)
        data[store] = {"id": image, "sha256": digest}
    save_images(data)
    return data


@pytest.mark.parametrize("store", ["file", "rbd"])
@pytest.mark.parametrize("name", GLANCE)
def test_image_downloads_identically_from_each_glance_host(uploaded, store, name):
    image = uploaded[store]
    assert glance("sha256", url(name), image["id"]) == image["sha256"]


def test_file_image_is_on_the_shared_mount_of_every_glance_host(uploaded):
    image = uploaded["file"]
    for name in GLANCE:
        out = check(name, f"sha256sum {STORE_DIR}/{image['id']}")
        assert out.split()[0] == image["sha256"], name


def test_rbd_image_is_in_the_images_pool(uploaded):
    image = uploaded["rbd"]
    assert image["id"] in check(MON, "rbd -p images ls").split()
    shown = json.loads(glance("show", url(), image["id"]))
    assert shown["stores"] == "rbd"
    # show_image_direct_url: cinder and nova clone from this location.
    assert shown["direct_url"].startswith("rbd://") and image["id"] in shown["direct_url"]
    # The file store does not hold it.
    assert check(GLANCE[0], f"test -e {STORE_DIR}/{image['id']} || echo absent").strip() == (
        "absent"
    )


def test_an_import_staged_on_one_host_is_finished_by_another(uploaded):
    first, other = GLANCE[0], GLANCE[-1]
    path, digest = random_file("image-import", mib=8)
    image = glance("create", url(), "strata-import")
    glance("stage", url(first), image, path)
    glance("import", url(other), image, "file")
    wait_for(
        lambda: json.loads(glance("show", url(), image))["status"] == "active",
        120,
        f"image {image} imported",
    )
    for name in GLANCE:
        assert glance("sha256", url(name), image) == digest, name
    data = images()
    data["import"] = {"id": image, "sha256": digest}
    save_images(data)
