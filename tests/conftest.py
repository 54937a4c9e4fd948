"""Test-session set-up: every test (and every subprocess a test starts) uses a private code cache,
never the user's ``~/.cache/symflow``."""
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_code_cache():
    """``SYMFLOW_CACHE`` points at a temporary folder for the whole session (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="symflow-test-cache-") as folder, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMFLOW_CACHE", folder)
        yield folder


def _tick_labels(fig) -> dict:
    """``{(axes index, 'x'|'y'): [(text, bounding box)]}``: the tick labels a saved figure shows (major and
    minor, inside the view, non-empty), with their boxes in display units."""
    renderer = fig.canvas.get_renderer()
    out = {}
    for i, ax in enumerate(fig.axes):
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            shown = []
            for tick in list(axis.get_major_ticks()) + list(axis.get_minor_ticks()):
                label = tick.label1
                if label.get_visible() and label.get_text() and lo <= tick.get_loc() <= hi:
                    shown.append((label.get_text(), label.get_window_extent(renderer)))
            out[i, axis.axis_name] = shown
    return out


@pytest.fixture
def saved_tick_labels(monkeypatch):
    """``{file name: {(axes, axis): [(text, box)]}}`` of every figure saved while the test runs (records
    each figure as drawn, then saves it as usual)."""
    from matplotlib.figure import Figure

    seen = SavedTickLabels()
    save = Figure.savefig

    def spy(self, fname, *args, **kwargs):
        result = save(self, fname, *args, **kwargs)    # draws: the boxes are final
        seen[str(getattr(fname, "name", fname)).rsplit("/", 1)[-1]] = _tick_labels(self)
        return result

    monkeypatch.setattr(Figure, "savefig", spy)
    return seen


class SavedTickLabels(dict):
    """``{file name: tick labels}`` (see :func:`saved_tick_labels`) with :meth:`problems`."""

    def problems(self, file_name: str) -> list:
        """Tick labels of the saved ``file_name`` drawn twice on one axis, or overlapping a neighbour."""
        return tick_label_problems(self[file_name])


def tick_label_problems(labels: dict) -> list:
    """Tick labels drawn twice on one axis, or overlapping a neighbour: ``[description]``."""
    problems = []
    for (i, name), shown in labels.items():
        texts = [t for t, _ in shown]
        problems += [f"axes {i} {name}: {t!r} drawn {texts.count(t)} times" for t in sorted(set(texts))
                     if texts.count(t) > 1]
        for a in range(len(shown)):
            for b in range(a + 1, len(shown)):
                if shown[a][0] != shown[b][0] and shown[a][1].overlaps(shown[b][1]):
                    problems.append(f"axes {i} {name}: {shown[a][0]!r} overlaps {shown[b][0]!r}")
    return problems
