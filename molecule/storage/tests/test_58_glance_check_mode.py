"""`--check --diff` of setup-glance.yml on the converged hosts reports nothing to change."""

from gl import assert_check_mode_clean


def test_check_diff_of_setup_glance_reports_nothing():
    assert_check_mode_clean("setup-glance.yml")
