"""``symflow study``: every prediction the theory makes for a group, next to its measurement.

    from symflow.study import run_study
    study = run_study("F21")            # 512 neurons, seed 0, separate spheres
    study.table(); study.write()        # rich table; study-F21/{report.md, summary.json, figures/}

Modules: ``trajectory`` (a population run recorded as observables), ``claims`` (one function per
prediction; the Wilson intervals and tests are in ``symflow.statistics``), ``predictions``
(the summary row), ``report`` and ``figures``, ``run`` (the orchestration).
"""
from .predictions import Prediction
from .run import DEFAULT_GROUP, Study, run_study

__all__ = ["run_study", "Study", "Prediction", "DEFAULT_GROUP"]
