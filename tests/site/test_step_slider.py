"""The site's unrolled views get a step slider (offline script), checked in headless Chromium."""

from __future__ import annotations

import shutil
import tempfile

import pytest

from tests.sitebuild import LocalServer, real_site

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# The slider that the reader sees, and the drawing it moves (a block with a copy for narrow
# screens has one slider per drawing, inside its .rnnviz-wide or .rnnviz-tall box).
_STATE = """
const bar = Array.from(document.querySelectorAll('.rnnviz .rnnviz-steps')).find(b => b.getBoundingClientRect().width > 0);
if (!bar) { return null; }
const block = bar.closest('.rnnviz-wide, .rnnviz-tall') || bar.closest('.rnnviz');
const input = bar.querySelector('input[type=range]');
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
const pair = bar.closest('.rnnviz-pair');
const other = pair && Array.from(pair.querySelectorAll('svg.rnnviz-svg')).find(s => !block.contains(s));
return {max: max, before: before, fadedAfter1: faded(1), shownUpTo1: shown(1), label: bar.textContent,
        copy: block.classList.contains('rnnviz-tall') ? 'tall' : (pair ? 'wide' : 'single'),
        otherHidden: other ? other.getBoundingClientRect().width === 0 : null,
        otherUntouched: other ? Array.from(other.querySelectorAll('[data-step]')).every(el => !el.style.opacity) : null};
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


@pytest.mark.parametrize("width, copy", [(1280, "wide"), (400, "tall")])
def test_a_phone_shows_the_narrow_copy_with_its_own_slider(driver, width, copy):
    """The unrolled vanilla RNN with its numbers: across on a laptop, turned (time runs down) on a
    phone; the slider the reader sees moves the drawing shown, the hidden one has its own."""
    site, result = real_site()
    assert result.returncode == 0, result.stderr
    with LocalServer(site) as server:
        driver.set_window_size(width, 900)
        driver.get(server.url + "gallery/vanilla/")
        state = driver.execute_script(_STATE)
        driver.set_window_size(1280, 900)
    assert state is not None and state["copy"] == copy
    assert state["otherHidden"] and state["otherUntouched"]
    assert state["max"] == 3 and state["before"] and state["fadedAfter1"] and state["shownUpTo1"]
