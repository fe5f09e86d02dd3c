"""The site's unrolled views get a step slider (offline script), checked in headless Chromium."""

from __future__ import annotations

import shutil
import tempfile

import pytest

from tests.sitebuild import LocalServer, real_site

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

_STATE = """
const block = Array.from(document.querySelectorAll('.rnnviz')).find(b => b.querySelector('.rnnviz-steps'));
if (!block) { return null; }
const input = block.querySelector('.rnnviz-steps input[type=range]');
const faded = k => Array.from(block.querySelectorAll('svg [data-step]'))
  .filter(el => parseInt(el.getAttribute('data-step'), 10) > k)
  .every(el => parseFloat(getComputedStyle(el).opacity) < 0.5);
const shown = k => Array.from(block.querySelectorAll('svg [data-step]'))
  .filter(el => parseInt(el.getAttribute('data-step'), 10) <= k)
  .every(el => parseFloat(getComputedStyle(el).opacity) === 1);
const max = parseInt(input.max, 10);
const before = shown(max);
input.value = '1';
input.dispatchEvent(new Event('input'));
return {max: max, before: before, fadedAfter1: faded(1), shownUpTo1: shown(1),
        label: block.querySelector('.rnnviz-steps').textContent};
"""


@pytest.fixture(scope="module")
def driver():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("Debian chromium and chromium-driver are not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='rnnviz-chromium-')}")
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield drv
    drv.quit()


def test_the_slider_fades_the_later_steps(driver):
    """On the 1-D ReLU solution page the unrolled view has a slider; at 1, steps 2 and 3 fade, 0 and 1 stay."""
    site, result = real_site()
    assert result.returncode == 0, result.stderr
    with LocalServer(site) as server:
        driver.get(server.url + "exercises/relu_1d.solutions/")
        state = driver.execute_script(_STATE)
    assert state is not None, "no unrolled diagram with a step slider"
    assert state["max"] == 3 and state["before"]
    assert state["fadedAfter1"] and state["shownUpTo1"]
    assert "steps 1 to 1 of 3" in state["label"]
