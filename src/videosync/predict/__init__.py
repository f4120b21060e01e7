"""Offset predictors: a similarity matrix → an offset and a confidence.

Adding a predictor is one file and one registration line below.
"""

from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.registry import Registry

PREDICTORS: Registry[Predictor] = Registry("predictor", entry_point_group="videosync.predictors")
PREDICTORS.add_lazy("lag", "videosync.predict.lag:LagPredictor")
PREDICTORS.add_lazy("argmax", "videosync.predict.argmax:ArgmaxPredictor")
PREDICTORS.add_lazy("dtw", "videosync.predict.dtw:DTWPredictor")
PREDICTORS.add_lazy("naive", "videosync.predict.naive:NaivePredictor")
PREDICTORS.add_lazy("logreg", "videosync.predict.heads:LogRegHead")
PREDICTORS.add_lazy("mlp", "videosync.predict.heads:MLPHead")
PREDICTORS.add_lazy("svr", "videosync.predict.heads:SVRHead")
PREDICTORS.add_lazy("cnn", "videosync.predict.heads:CNNHead")
PREDICTORS.add_lazy("profile", "videosync.predict.profile:ProfileHead")
PREDICTORS.add_lazy("insyn", "videosync.predict.insyn:InSynPredictor")
PREDICTORS.add_lazy("epipolar", "videosync.predict.epipolar:EpipolarPredictor")
PREDICTORS.add_lazy("epilines", "videosync.predict.epilines:EpilinesPredictor")

__all__ = ["PREDICTORS", "OffsetEstimate", "Predictor", "SearchRange"]
